"""The mastery tracker: what Ramp believes a learner knows, per concept (plain Python, no
Django). The policy gates progress with it (P(mastered)) and chooses practice by it (P(the
true success on a question lies in the practice band)).

**The belief.** Per concept a normal belief N(mu, var) over the learner's proficiency theta
in logits, where P(right on an item of relative difficulty d) = guess + (1 - guess) * (1 -
``SLIP``) * sigmoid(theta - d). Difficulties are relative to the concept's typical question
(``CourseGraph.relative_difficulty``), so theta = 0 means even odds on it wherever the concept
sits in the ramp. Each answer updates the belief in O(1) by a Laplace (extended-Kalman) step.

* ``SLIP``: even a learner who knows the concept gets 3% wrong. Without it one wrong answer
  where 97% was predicted moves the belief by about its whole variance, and a long run of
  right answers on questions too easy to discriminate reads as ever-growing proficiency.
* Before each answer on the concept: mu += ``LEARN`` * rate (practice helps; fading out over
  the last logit below ``CEILING``, where nothing a question can measure is left to gain) and
  var += ``Q`` (never beyond the never-seen prior's ``VAR0``: answers on questions far too
  easy carry almost no information, and the noise would otherwise pile up without end).
* Time since the last answer on the concept: var += ``FORGET_VAR`` * log(1 + days) / (1 + s)
  and mu -= ``FORGET_MU`` * log(1 + days) / (1 + s), where ``s`` counts the *spaced* answers
  (a day or more after the one before): forgetting is fast at first and slows with each
  spaced retrieval, as in FSRS and the spacing literature. A variance growing linearly in
  days would push every mastered concept of a long ramp back under the gate within weeks.
* Prerequisite-graph evidence (``learner.graph_evidence``) enters as fractional
  pseudo-answers on a typical item, and does not move the learning rate (a neighbour's answer
  says what is known, not how fast it was learnt).
* An answer after ``h`` hints is evidence about a *relieved* item: each hint does part of the
  work, so the item counts as ``hint_relief(h)`` logits easier (0.8 for the first hint, half
  as much for each further one).
* A placement's P(mastered) p becomes the prior: the moment-matched mixture of
  N(``KNOWN_MU``, ``KNOWN_VAR``) with weight p and the never-seen prior with weight 1 - p.

**The learner's learning rate.** Learners differ in how much an attempt teaches them, and
one learner differs less from one concept to the next. So the gain per attempt is ``LEARN``
times a learner-level rate with a normal belief (prior N(1, 0.3^2)) shared by all concepts.
Each concept's proficiency is kept *given* the rate: theta_c = mean_c + weight_c * rate +
N(0, var_c), where weight_c grows by ``LEARN`` per attempt. An answer updates the joint normal
belief over (theta_c, rate) in one Laplace step and is factorised back into the rate's belief
and the concept's conditional (weight_c becomes the posterior regression of theta_c on the
rate): exact for the linearised model and O(1) per answer whatever the number of concepts,
because given the rate the concepts are independent. A learner who keeps beating the
predictions on one concept so starts the next with faster expected progress. At each
attempt older gains settle into the rate-free part at the current estimate (weight *=
``RATE_KEEP``, mean and variance unchanged), so a concept's weight stays below ``LEARN`` /
(1 - ``RATE_KEEP``) = 2.5 (else a concept practised 300 times would carry 300^2 * LEARN^2 *
var(rate) of the rate's uncertainty). The rate's mean never falls below ``RATE_FLOOR``: a
learner who gets everything wrong is not expected to get worse with practice.

**Mastered.** P(mastered) = P(theta >= logit(target)), where ``target`` is the success on the
concept's typical question that counts as mastered (0.8): "we are this sure you would get a
typical question of this concept right at least 80% of the time". At the graph's usual
threshold of 0.95 that means a proficiency of about 2.4 logits (90% on a typical question).

**State** (JSON, kept by reference: updates land in the caller's dict, e.g. the enrollment's
``mastery_state``)::

    {concept: {"mean": ..., "var": ..., "t": last answer (epoch s) or null, "spaced": n,
               "rate_weight": ...},
     "~rate": {"mean": ..., "var": ...}}

("~" cannot start a concept slug.) Why the constants have their values, and what each piece
was measured to be worth on simulated learners, is in docs/knowledge-model.md.
"""

from __future__ import annotations

import math

MU0, VAR0 = -1.0, 2.0**2  # a concept never seen
KNOWN_MU, KNOWN_VAR = 3.0, 0.8**2  # what placement's "known" means
LEARN = 0.25  # expected gain per attempt (logits)
Q = 0.10  # process noise per attempt
FORGET_VAR = 0.2  # per log(1 + days), divided by 1 + spaced responses
FORGET_MU = 0.35  # per log(1 + days), divided by 1 + spaced responses
DAY = 86400.0
SPACED = DAY  # a response this long after the previous one is spaced
SLIP = 0.03  # a wrong answer despite knowing it (see the docstring)
HINT_LOGIT = 0.8  # what the first hint shown takes off an item's difficulty


def hint_relief(hints: int) -> float:
    """Logits an item's difficulty drops by when ``hints`` hints are shown before the answer:
    0.8, 1.2, 1.4, ... (each hint half as much as the one before: the first does most)."""
    return 2.0 * HINT_LOGIT * (1.0 - 0.5 ** max(0, hints))


def band_probability(mu: float, sd: float, band: tuple[float, float], guess: float, top: float) -> float:
    """P(guess + top * sigmoid(z) lies in ``band``) for z ~ N(mu, sd^2)."""

    def below(p: float) -> float:  # P(success < p)
        x = (p - guess) / top
        if x <= 0.0:
            return 0.0
        if x >= 1.0:
            return 1.0
        z = math.log(x / (1.0 - x))
        if sd <= 0.0:
            return 1.0 if mu < z else 0.0
        return 0.5 * math.erfc(-(z - mu) / (sd * math.sqrt(2.0)))

    return max(0.0, below(band[1]) - below(band[0]))


def _sig(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


RATE_KEY = "~rate"  # the learner's learning rate; "~" can't start a concept slug
RATE_M0, RATE_VAR0 = 1.0, 0.3**2  # x LEARN per attempt: learners differ in speed
RATE_KEEP = 0.9
RATE_FLOOR = 0.1  # the slowest learning the tracker will believe in
CEILING = 4.0  # logits (98% on a typical item): where practice stops adding


def _never_seen() -> dict:
    return {"mean": MU0, "var": VAR0, "t": None, "spaced": 0, "rate_weight": 0.0}


class MasteryTracker:
    def __init__(
        self,
        target: float = 0.8,
        learn: float | None = None,
        q: float | None = None,
        state: dict | None = None,
        rate_var: float | None = None,
    ):
        self.theta_m = math.log(target / (1.0 - target))
        self.learn = LEARN if learn is None else learn
        self.q = Q if q is None else q
        self.rate_var0 = RATE_VAR0 if rate_var is None else rate_var
        # ``state`` is kept by reference: updates land in the caller's JSON dict.
        self.s: dict[str, list] = state if state is not None else {}

    def _get(self, c: str) -> dict:
        v = self.s.get(c)
        if v is None:
            v = self.s[c] = _never_seen()
        return v

    def _rate_belief(self) -> tuple[float, float]:
        """The learning rate's mean and variance (the prior until an answer has moved it)."""
        r = self.s.get(RATE_KEY)
        return (r["mean"], r["var"]) if r else (RATE_M0, self.rate_var0)

    def _rate(self) -> dict:
        r = self.s.get(RATE_KEY)
        if r is None:
            r = self.s[RATE_KEY] = {"mean": RATE_M0, "var": self.rate_var0}
        return r

    def _marginal(self, v: dict | None) -> tuple[float, float]:
        """Mean and variance of the concept's proficiency, the learning rate integrated out."""
        if v is None:
            return MU0, VAR0
        beta = v["rate_weight"]
        if not beta:
            return v["mean"], v["var"]
        rm, rv = self._rate_belief()
        return v["mean"] + beta * rm, v["var"] + beta * beta * rv

    @staticmethod
    def _forgetting(v: dict, t: float | None) -> tuple[float, float]:
        """(drop in mu, growth of var) from the last response on the concept until ``t``."""
        if t is None or v["t"] is None or t <= v["t"]:
            return 0.0, 0.0
        f = math.log1p((t - v["t"]) / DAY) / (1.0 + v["spaced"])
        return FORGET_MU * f, FORGET_VAR * f

    def _age(self, v: dict, t: float | None) -> None:
        dmu, dvar = self._forgetting(v, t)
        if dmu or dvar:
            v["mean"] -= dmu
            v["var"] += dvar
            v["t"] = t

    @staticmethod
    def _score(mu: float, y: float, d: float, guess: float, weight: float) -> tuple[float, float]:
        """(information, score) of one response at proficiency ``mu``: the Laplace step's terms."""
        s = _sig(mu - d)
        top = (1.0 - guess) * (1.0 - SLIP)
        p = min(max(guess + top * s, 1e-4), 1 - 1e-4)
        dp = top * s * (1.0 - s)
        return weight * dp * dp / (p * (1.0 - p)), weight * dp * (y - p) / (p * (1.0 - p))

    def _step(self, v: dict, y: float, d: float, guess: float, weight: float, *, rate: bool) -> None:
        """One Laplace step. With ``rate``, on the joint belief over (proficiency, learning
        rate) - the concept's proficiency is mean + rate_weight * rate + N(0, var) given the rate -
        then factorised back into the rate's belief and the concept's conditional; without,
        on the concept's conditional alone (the rate is left as it is)."""
        beta = v["rate_weight"]
        rm, rv = self._rate_belief()
        if not rate or not beta or rv <= 0.0:
            mu = v["mean"] + beta * rm
            info, score = self._score(mu, y, d, guess, weight)
            var2 = 1.0 / (1.0 / v["var"] + info)
            v["mean"] += var2 * score
            v["var"] = var2
            return
        r = self._rate()
        mt = v["mean"] + beta * rm
        ptt, ptr = v["var"] + beta * beta * rv, beta * rv
        info, score = self._score(mt, y, d, guess, weight)
        # Sherman-Morrison: the answer informs the proficiency only; the rate through ptr
        k = info / (1.0 + info * ptt)
        ptt2, ptr2, prr2 = ptt - k * ptt * ptt, ptr - k * ptt * ptr, rv - k * ptr * ptr
        mt2, rm2 = mt + ptt2 * score, rm + ptr2 * score
        # practice never makes a learner worse: a run of failures (guessing, a bad day) can
        # slow the expected gain to RATE_FLOOR but not turn it negative
        rm2 = max(RATE_FLOOR, rm2)
        r["mean"], r["var"] = rm2, prr2
        v["rate_weight"] = ptr2 / prr2
        v["var"] = max(ptt2 - ptr2 * ptr2 / prr2, 1e-6)
        v["mean"] = mt2 - v["rate_weight"] * rm2

    def update(
        self,
        c: str,
        correct: bool,
        *,
        difficulty: float = 0.0,
        guess: float = 0.0,
        t: float | None = None,
        hints: int = 0,
    ) -> None:
        v = self._get(c)
        spaced = t is not None and v["t"] is not None and t - v["t"] >= SPACED
        # forget the time since the last response as belief() and predict() do, then count the
        # retrieval as spaced (counting first would forget only half of what the prediction
        # just before the answer had)
        self._age(v, t)
        if spaced:
            v["spaced"] += 1
        beta = v["rate_weight"]
        rm, rv = self._rate_belief()
        if beta > 0.0 and RATE_KEEP < 1.0:
            # older gains settle into the rate-free part at the current rate estimate (mean and
            # variance unchanged), so the rate's weight on a concept stays bounded
            v["mean"] += (1.0 - RATE_KEEP) * beta * rm
            v["var"] += (1.0 - RATE_KEEP**2) * beta * beta * rv
            v["rate_weight"] = RATE_KEEP * beta
        v_before = v["var"]
        # the attempt's gain, LEARN times the learner's rate, fading out towards CEILING: beyond
        # it practice adds nothing an item can measure (and a long run of right answers on
        # easy items would otherwise be read as ever-growing proficiency)
        v["rate_weight"] += self.learn * min(1.0, max(0.0, CEILING - (v["mean"] + v["rate_weight"] * rm)))
        # process noise, but never less sure than about a concept never seen: answers on items
        # far too easy say almost nothing, and the noise would otherwise pile up without end
        v["var"] = min(v["var"] + self.q, max(v_before, VAR0))
        self._step(v, 1.0 if correct else 0.0, difficulty - hint_relief(hints), guess, 1.0, rate=True)
        if t is not None:
            v["t"] = t

    def evidence(self, c: str, weight: float, t: float | None = None) -> None:
        """Soft evidence: ``weight`` > 0 pseudo-successes, < 0 pseudo-failures (typical item).
        It moves the belief as of the concept's last response and leaves the forgetting clock
        alone: forgetting is a function of the time since the last *response* (log-shaped, so
        ageing in many small steps would overstate it). It leaves the learning rate alone too:
        a neighbour's answer says something about what is known here, not how fast it was
        learnt; so it steps on the belief *given* the rate, and on a well-practised concept
        (whose variance is partly the rate's) it moves the mean less than an answer would.
        ``t`` is accepted for symmetry."""
        if not weight:
            return
        v = self._get(c)
        self._step(v, 1.0 if weight > 0 else 0.0, 0.0, 0.0, abs(weight), rate=False)

    def set_prior(self, c: str, p_known: float, t: float | None = None) -> None:
        m = p_known * KNOWN_MU + (1 - p_known) * MU0
        var = p_known * KNOWN_VAR + (1 - p_known) * VAR0 + p_known * (1 - p_known) * (KNOWN_MU - MU0) ** 2
        self.s[c] = {"mean": m, "var": var, "t": t, "spaced": 0, "rate_weight": 0.0}

    def belief(self, c: str, t: float | None = None) -> tuple[float, float]:
        """Mean and sd of the concept's proficiency at ``t`` (logits)."""
        v = self.s.get(c)
        mu, var = self._marginal(v)
        if v is not None:
            dmu, dvar = self._forgetting(v, t)
            mu, var = mu - dmu, var + dvar
        return mu, math.sqrt(var)

    def rate(self) -> tuple[float, float]:
        """The learner's learning rate (x the typical gain per attempt): mean and sd."""
        rm, rv = self._rate_belief()
        return rm, math.sqrt(rv)

    def mastery(self, c: str, t: float | None = None) -> float:
        mu, sd = self.belief(c, t)
        z = (mu - self.theta_m) / sd
        return 0.5 * math.erfc(-z / math.sqrt(2.0))

    def predict(
        self, c: str, difficulty: float, guess: float = 0.0, t: float | None = None, hints: int = 0
    ) -> float:
        """Expected success on an item of ``difficulty`` answered after ``hints`` hints."""
        mu, var = self.next_logit(c, difficulty, t, hints)
        # expected success under the belief (probit approximation of the logistic-normal)
        k = math.sqrt(1.0 + math.pi * var / 8.0)
        return guess + (1.0 - guess) * (1.0 - SLIP) * _sig(mu / k)

    def in_band(
        self,
        c: str,
        difficulty: float,
        band: tuple[float, float],
        guess: float = 0.0,
        t: float | None = None,
        hints: int = 0,
    ) -> float:
        """P(the learner's *true* success on the next answer lies in ``band``) under the belief.

        Not the same as asking whether the expected success (``predict``) is in the band: an
        uncertain belief pulls the expected success towards 1/2, and an item picked for an
        expected 0.78 is then one the learner most likely gets right 85-90% of the time."""
        mu, var = self.next_logit(c, difficulty, t, hints)
        return band_probability(mu, math.sqrt(var), band, guess, (1.0 - guess) * (1.0 - SLIP))

    def next_logit(self, c: str, difficulty: float, t: float | None, hints: int) -> tuple[float, float]:
        """Mean and variance of the logit of the next answer's success, before guessing and
        slips: proficiency (after the attempt's expected gain and any forgetting until ``t``)
        minus the item's ``difficulty`` relieved by ``hints`` hints."""
        difficulty -= hint_relief(hints)
        v = self.s.get(c)
        if v is None:  # a first answer: update() starts from the never-seen prior too
            v = _never_seen()
        dmu, dvar = self._forgetting(v, t)
        # the next response comes after one more attempt's expected gain (as in update, but
        # without its fade towards CEILING, which measured worse: docs/knowledge-model.md)
        beta = v["rate_weight"] + self.learn
        rm, rv = self._rate_belief()
        mu = v["mean"] - dmu + beta * rm
        var = v["var"] + dvar + self.q + beta * beta * rv
        return mu - difficulty, var
