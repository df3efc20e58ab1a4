"""The load benchmark (python -m benchmarks.load)."""
