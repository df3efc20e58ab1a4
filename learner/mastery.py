"""A per-concept proficiency tracker for *gating* (plain Python, no Django).

Why: ``RampKT`` predicts the next response well, but its ``mastery().p_mastered`` is a poor
gate. Its uncertainty is floored by a decayed evidence count (at most ~5 responses), so
P(mastered) >= 0.95 needs a predicted typical success of about 0.975 - out of reach for a
learner who slips 3% of the time - and it moves with momentary learner-level features
(whether the previous answer was on the same concept, the current streak), so a concept
drops out of "mastered" as soon as the learner switches to the next one. In the benchmark
the policy then practised mastered concepts for dozens of items. So the study loop gates
with this tracker and predicts the next answer with the estimator: each does what it is
measured to do well.

This tracker keeps, per concept, a normal belief N(mu, var) over the learner's proficiency
theta (logits; P(right on an item of relative difficulty d) = guess + (1 - guess) *
sigmoid(theta - d)), updated in O(1) per response by a Laplace (extended-Kalman) step:

* before each response on the concept: mu += ``LEARN`` (practice helps) and var += ``Q``;
  per day since the last response: var += ``FORGET_VAR`` * days and mu -= ``FORGET_MU`` *
  log(1 + days) (forgetting);
* prerequisite-graph evidence from ``learner.kt.graph.propagate_evidence`` enters as
  fractional pseudo-responses on a typical item;
* a placement's P(mastered) p becomes the prior: the moment-matched mixture of
  N(``KNOWN_MU``, ``KNOWN_VAR``) with weight p and the unknown prior with weight 1 - p.

P(mastered) = P(theta >= logit(target)) where ``target`` is the success on a typical item
that counts as mastered (0.8, the same definition as ``RampKT.mastery_threshold``): "we are
this sure you would get a typical question right at least 80% of the time"; at the graph's
0.95 that means a proficiency of about 2.4 logits (90% on a typical item).

State: ``{concept: [mu, var, last_t]}``, JSON-serialisable.
"""

from __future__ import annotations

import math

MU0, VAR0 = -1.0, 2.0 ** 2          # a concept never seen
KNOWN_MU, KNOWN_VAR = 3.0, 0.8 ** 2  # what placement's "known" means
LEARN = 0.25                          # expected gain per attempt (logits)
Q = 0.10                              # process noise per attempt
FORGET_VAR = 0.05                     # per day
FORGET_MU = 0.1                       # per log(1 + days)


def _sig(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class MasteryTracker:
    def __init__(self, target: float = 0.8, learn: float | None = None, q: float | None = None,
                 state: dict | None = None):
        self.theta_m = math.log(target / (1.0 - target))
        self.learn = LEARN if learn is None else learn
        self.q = Q if q is None else q
        # ``state`` is kept by reference: updates land in the caller's JSON dict.
        self.s: dict[str, list] = state if state is not None else {}

    def _get(self, c: str) -> list:
        v = self.s.get(c)
        if v is None:
            v = self.s[c] = [MU0, VAR0, None]
        return v

    def _age(self, v: list, t: float | None) -> None:
        if t is not None and v[2] is not None and t > v[2]:
            days = (t - v[2]) / 86400.0
            v[1] += FORGET_VAR * days
            v[0] -= FORGET_MU * math.log1p(days)
            v[2] = t

    def _step(self, v: list, y: float, d: float, guess: float, weight: float) -> None:
        mu, var = v[0], v[1]
        s = _sig(mu - d)
        p = min(max(guess + (1.0 - guess) * s, 1e-4), 1 - 1e-4)
        dp = (1.0 - guess) * s * (1.0 - s)
        info = weight * dp * dp / (p * (1.0 - p))
        var2 = 1.0 / (1.0 / var + info)
        v[0] = mu + var2 * weight * dp * (y - p) / (p * (1.0 - p))
        v[1] = var2

    def update(self, c: str, correct: bool, *, difficulty: float = 0.0, guess: float = 0.0,
               t: float | None = None) -> None:
        v = self._get(c)
        self._age(v, t)
        v[0] += self.learn
        v[1] += self.q
        self._step(v, 1.0 if correct else 0.0, difficulty, guess, 1.0)
        if t is not None:
            v[2] = t

    def evidence(self, c: str, weight: float, t: float | None = None) -> None:
        """Soft evidence: ``weight`` > 0 pseudo-successes, < 0 pseudo-failures (typical item)."""
        if not weight:
            return
        v = self._get(c)
        self._age(v, t)
        self._step(v, 1.0 if weight > 0 else 0.0, 0.0, 0.0, abs(weight))

    def set_prior(self, c: str, p_known: float, t: float | None = None) -> None:
        m = p_known * KNOWN_MU + (1 - p_known) * MU0
        var = (p_known * KNOWN_VAR + (1 - p_known) * VAR0
               + p_known * (1 - p_known) * (KNOWN_MU - MU0) ** 2)
        self.s[c] = [m, var, t]

    def mastery(self, c: str, t: float | None = None) -> float:
        v = self.s.get(c)
        if v is None:
            mu, var = MU0, VAR0
        else:
            mu, var = v[0], v[1]
            if t is not None and v[2] is not None and t > v[2]:
                days = (t - v[2]) / 86400.0
                var += FORGET_VAR * days
                mu -= FORGET_MU * math.log1p(days)
        z = (mu - self.theta_m) / math.sqrt(var)
        return 0.5 * math.erfc(-z / math.sqrt(2.0))

    def predict(self, c: str, difficulty: float, guess: float = 0.0, t: float | None = None) -> float:
        v = self.s.get(c)
        mu, var = (MU0, VAR0) if v is None else (v[0], v[1])
        if v is not None and t is not None and v[2] is not None and t > v[2]:
            days = (t - v[2]) / 86400.0
            var += FORGET_VAR * days
            mu -= FORGET_MU * math.log1p(days)
        if v is not None:
            # the next response comes after one more attempt's expected gain (as in update)
            mu += self.learn
            var += self.q
        # expected success under the belief (probit approximation of the logistic-normal)
        s = _sig(mu / math.sqrt(1.0 + math.pi * var / 8.0) - difficulty / math.sqrt(1.0 + math.pi * var / 8.0))
        return guess + (1.0 - guess) * s
