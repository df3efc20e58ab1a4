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
  for the time since the last response: var += ``FORGET_VAR`` * log(1 + days) / (1 + s)
  and mu -= ``FORGET_MU`` * log(1 + days) / (1 + s), where ``s`` counts the *spaced*
  responses on the concept (a day or more after the one before): forgetting is fast at
  first and slows with each spaced retrieval, as in FSRS and the spacing literature. Until
  2026-11-28 the variance grew linearly in days whatever the spacing, so on a 100-concept
  ramp studied over a year every mastered concept fell back under the gate within weeks
  and was practised again from scratch (the simulated learners then needed 3.6 times the
  items of the same policy with perfect information);
* prerequisite-graph evidence from ``learner.kt.graph.propagate_evidence`` enters as
  fractional pseudo-responses on a typical item;
* an answer given after ``h`` hints is evidence about a *relieved* item: each hint does part
  of the work, so the item counts as ``hint_relief(h)`` logits easier (0.8 for the first
  hint, half of that for each further one). Until 2026-12-05 hints were ignored, so a right
  answer after three hints counted like an unaided one;
* a placement's P(mastered) p becomes the prior: the moment-matched mixture of
  N(``KNOWN_MU``, ``KNOWN_VAR``) with weight p and the unknown prior with weight 1 - p.

P(mastered) = P(theta >= logit(target)) where ``target`` is the success on a typical item
that counts as mastered (0.8, the same definition as ``RampKT.mastery_threshold``): "we are
this sure you would get a typical question right at least 80% of the time"; at the graph's
0.95 that means a proficiency of about 2.4 logits (90% on a typical item).

State: ``{concept: [mu, var, last_t, spaced]}``, JSON-serialisable (a stored state
without ``spaced`` reads as 0).
"""

from __future__ import annotations

import math

MU0, VAR0 = -1.0, 2.0 ** 2          # a concept never seen
KNOWN_MU, KNOWN_VAR = 3.0, 0.8 ** 2  # what placement's "known" means
LEARN = 0.25                          # expected gain per attempt (logits)
Q = 0.10                              # process noise per attempt
FORGET_VAR = 0.2                      # per log(1 + days), divided by 1 + spaced responses
FORGET_MU = 0.1                       # per log(1 + days), divided by 1 + spaced responses
DAY = 86400.0
SPACED = DAY                          # a response this long after the previous one is spaced
HINT_LOGIT = 0.8                      # what the first hint shown takes off an item's difficulty


def hint_relief(hints: int) -> float:
    """Logits an item's difficulty drops by when ``hints`` hints are shown before the answer:
    0.8, 1.2, 1.4, ... (each hint half as much as the one before: the first does most)."""
    return 2.0 * HINT_LOGIT * (1.0 - 0.5 ** max(0, hints))


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
            v = self.s[c] = [MU0, VAR0, None, 0]
        elif len(v) < 4:
            v.append(0)
        return v

    @staticmethod
    def _forgetting(v: list, t: float | None) -> tuple[float, float]:
        """(drop in mu, growth of var) from the last response on the concept until ``t``."""
        if t is None or v[2] is None or t <= v[2]:
            return 0.0, 0.0
        f = math.log1p((t - v[2]) / DAY) / (1.0 + (v[3] if len(v) > 3 else 0))
        return FORGET_MU * f, FORGET_VAR * f

    def _age(self, v: list, t: float | None) -> None:
        dmu, dvar = self._forgetting(v, t)
        if dmu or dvar:
            v[0] -= dmu
            v[1] += dvar
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
               t: float | None = None, hints: int = 0) -> None:
        v = self._get(c)
        if t is not None and v[2] is not None and t - v[2] >= SPACED:
            v[3] += 1
        self._age(v, t)
        v[0] += self.learn
        v[1] += self.q
        self._step(v, 1.0 if correct else 0.0, difficulty - hint_relief(hints), guess, 1.0)
        if t is not None:
            v[2] = t

    def evidence(self, c: str, weight: float, t: float | None = None) -> None:
        """Soft evidence: ``weight`` > 0 pseudo-successes, < 0 pseudo-failures (typical item).
        It moves the belief as of the concept's last response and leaves the forgetting clock
        alone: forgetting is a function of the time since the last *response* (log-shaped, so
        ageing in many small steps would overstate it). ``t`` is accepted for symmetry."""
        if not weight:
            return
        v = self._get(c)
        self._step(v, 1.0 if weight > 0 else 0.0, 0.0, 0.0, abs(weight))

    def set_prior(self, c: str, p_known: float, t: float | None = None) -> None:
        m = p_known * KNOWN_MU + (1 - p_known) * MU0
        var = (p_known * KNOWN_VAR + (1 - p_known) * VAR0
               + p_known * (1 - p_known) * (KNOWN_MU - MU0) ** 2)
        self.s[c] = [m, var, t, 0]

    def mastery(self, c: str, t: float | None = None) -> float:
        v = self.s.get(c)
        if v is None:
            mu, var = MU0, VAR0
        else:
            dmu, dvar = self._forgetting(v, t)
            mu, var = v[0] - dmu, v[1] + dvar
        z = (mu - self.theta_m) / math.sqrt(var)
        return 0.5 * math.erfc(-z / math.sqrt(2.0))

    def predict(self, c: str, difficulty: float, guess: float = 0.0, t: float | None = None,
                hints: int = 0) -> float:
        """Expected success on an item of ``difficulty`` answered after ``hints`` hints."""
        difficulty -= hint_relief(hints)
        v = self.s.get(c)
        mu, var = (MU0, VAR0) if v is None else (v[0], v[1])
        if v is not None:
            dmu, dvar = self._forgetting(v, t)
            mu, var = mu - dmu, var + dvar
            # the next response comes after one more attempt's expected gain (as in update)
            mu += self.learn
            var += self.q
        # expected success under the belief (probit approximation of the logistic-normal)
        s = _sig(mu / math.sqrt(1.0 + math.pi * var / 8.0) - difficulty / math.sqrt(1.0 + math.pi * var / 8.0))
        return guess + (1.0 - guess) * s
