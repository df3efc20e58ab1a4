"""Knowledge tracing on response logs: classic baselines (BKT, PFA, Elo, per-skill means),
RampKT (a logistic estimator with learner-level features) and its blend with a GRU, and the
benchmark that compares them on a CSV log (``python -m benchmarks.kt.benchmark``).

None of these runs in the study loop: the learner's knowledge state there is the mastery
tracker (``learner.mastery``). They are here to measure it against the literature and to try
ideas on public logs."""
