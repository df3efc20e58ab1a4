"""Ramp's benchmarks and the research code they run: simulated learners and the ideal
observer (``benchmarks.simulation``), knowledge-tracing baselines and estimators
(``benchmarks.kt``), and the tutor model's speed benchmarks (``benchmarks.tutor_model``).

Benchmarks import the apps; no app imports them (an import contract in ``pyproject.toml``
fails ``make test`` otherwise), so nothing here is on the path of a learner's request.
"""
