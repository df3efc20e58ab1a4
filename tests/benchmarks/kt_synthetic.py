"""Synthetic response logs with a planted signal, for the knowledge-tracing tests."""

import math
import random

from learner.response_log import Response


def synthetic_log(n_learners=200, n_per_learner=40, n_skills=5, seed=0, with_time=False, prefix="u"):
    """Learners differ in ability (sd 1.5 logits) and improve with practice on a skill."""
    rng = random.Random(seed)
    difficulty = {f"s{k}": (k - n_skills / 2) * 0.4 for k in range(n_skills)}
    rows = []
    for u in range(n_learners):
        ability = rng.gauss(0.0, 1.5)
        practice = {s: 0 for s in difficulty}
        t = 1_700_000_000.0 + rng.random() * 1000
        for _ in range(n_per_learner):
            s = rng.choice(list(difficulty))
            z = ability - difficulty[s] + 0.3 * practice[s]
            correct = int(rng.random() < 1.0 / (1.0 + math.exp(-z)))
            practice[s] += 1
            rows.append(Response(f"{prefix}{u}", s, correct, t if with_time else None))
            t += rng.random() * 600
    return rows
