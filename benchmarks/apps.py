from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Installed only for its management commands (``kt_benchmark``, ``simulate_learners``)."""

    name = "benchmarks"
