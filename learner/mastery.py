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
theta (logits; P(right on an item of relative difficulty d) = guess + (1 - guess) * (1 -
``SLIP``) * sigmoid(theta - d)), updated in O(1) per response by a Laplace (extended-Kalman)
step. Difficulties are relative to the concept's typical question
(``CourseGraph.relative_difficulty``), so theta = 0 means even odds on it whatever the
concept's place in the ramp.

* ``SLIP`` (since 2026-12-05): even a learner who knows the concept gets 3% wrong. Without it
  a single wrong answer where the tracker predicted 97% moved the belief by about its
  variance (4 logits after a long run of easy questions), and a long run of right answers on
  questions that can't discriminate any more was read as ever-growing proficiency;

* before each response on the concept: mu += ``LEARN`` * rate (practice helps; fading out
  over the last logit below ``CEILING``, where nothing a question can measure is left to
  gain) and var += ``Q`` (never beyond the never-seen prior's ``VAR0``: answers on questions
  far too easy carry almost no information, and the noise would pile up without end); for
  the time since the last response: var += ``FORGET_VAR`` * log(1 + days) / (1 + s)
  and mu -= ``FORGET_MU`` * log(1 + days) / (1 + s), where ``s`` counts the *spaced*
  responses on the concept (a day or more after the one before): forgetting is fast at
  first and slows with each spaced retrieval, as in FSRS and the spacing literature.
  ``FORGET_MU`` was 0.1 until 2026-12-05: once wrong answers stopped collapsing the belief
  (``SLIP``), the simulated learners' forgetting (0.35 per log-day) went unnoticed on concepts
  the learner had stopped practising, and runs ended with a concept believed mastered that no
  longer was (whole-ramp mastery reached by 36 / 39 of 40 simulated learners on 30 concepts
  and 3 / 4 of 5 on 300 at 0.1 / 0.35; practice in the band 0.619 / 0.631). 0.35 is the
  simulated world's value; a course's own should be fitted from its log (not done yet). Until
  2026-11-28 the variance grew linearly in days whatever the spacing, so on a 100-concept
  ramp studied over a year every mastered concept fell back under the gate within weeks
  and was practised again from scratch (the simulated learners then needed 3.6 times the
  items of the same policy with perfect information);
* prerequisite-graph evidence from ``learner.graph_evidence.propagate_evidence`` enters as
  fractional pseudo-responses on a typical item;
* an answer given after ``h`` hints is evidence about a *relieved* item: each hint does part
  of the work, so the item counts as ``hint_relief(h)`` logits easier (0.8 for the first
  hint, half of that for each further one). Until 2026-12-05 hints were ignored, so a right
  answer after three hints counted like an unaided one;
* a placement's P(mastered) p becomes the prior: the moment-matched mixture of
  N(``KNOWN_MU``, ``KNOWN_VAR``) with weight p and the unknown prior with weight 1 - p.

**The learner's learning rate** (since 2026-12-05). Learners differ in how much an attempt
teaches them, and the same learner differs less from one concept to the next. So the gain
per attempt is ``LEARN`` times a learner-level ``rate`` with a normal belief (prior
N(1, 0.3^2)) shared by all concepts. Each concept's proficiency is kept *given* the rate:
theta_c = alpha_c + beta_c * rate + N(0, v_c), where beta_c grows by ``LEARN`` per attempt.
An answer updates the joint normal belief over (theta_c, rate) in one Laplace step and is
factorised back into the rate's belief and the concept's conditional (beta_c becomes the
posterior regression of theta_c on the rate). That is exact for the linearised model, O(1)
per answer whatever the number of concepts, because given the rate the concepts are
independent. Every concept's proficiency then moves with what all the others say about the
rate: a learner who keeps beating the predictions on one concept starts the next one with
faster expected progress. At each attempt older gains settle into the rate-free part at the
current estimate (beta *= ``RATE_KEEP``, mean and variance unchanged), so a concept's weight on
the rate stays below ``LEARN`` / (1 - ``RATE_KEEP``) = 2.5: without it, the rate's uncertainty
entered a concept practised 300 times as 300^2 * LEARN^2 * var(rate). The rate's mean never
falls below ``RATE_FLOOR`` (a learner who gets everything wrong would otherwise be expected to
get worse with practice). Why: with one fixed
gain, the simulated benchmark's predicted success was off by -0.6 logits for its slowest
learners and +0.7 for its fastest (practice in the band 47% for either against 67% near the
typical rate); with the rate, on the tuning ramps, practice in the band went from 53% / 57% to
59% / 61% at 8% fewer items. Graph evidence does not move the rate (a neighbour's answer says
what is known, not how fast it was learnt).

The policy chooses practice with ``in_band``: P(the true success on the next answer lies in
the band) under the belief, rather than whether the expected success (``predict``) does - an
uncertain belief pulls the expected success towards 1/2 (since 2026-12-05; see tutor.policy).

P(mastered) = P(theta >= logit(target)) where ``target`` is the success on the concept's
typical question that counts as mastered (0.8, the same definition as
``RampKT.mastery_threshold``): "we are this sure you would get a typical question of this
concept right at least 80% of the time"; at the graph's 0.95 that means a proficiency of
about 2.4 logits (90% on a typical question).

State: ``{concept: [alpha, v, last_t, spaced, beta], "~rate": [mean, var]}``,
JSON-serialisable ("~" cannot start a concept slug). A stored state from before either
field reads as spaced 0 / beta 0, the rate at its prior: the old [mu, var] is the same belief.
"""

from __future__ import annotations

import math

MU0, VAR0 = -1.0, 2.0**2  # a concept never seen
KNOWN_MU, KNOWN_VAR = 3.0, 0.8**2  # what placement's "known" means
LEARN = 0.25  # expected gain per attempt (logits)
Q = 0.10  # process noise per attempt
FORGET_VAR = 0.2  # per log(1 + days), divided by 1 + spaced responses
FORGET_MU = 0.35  # per log(1 + days), divided by 1 + spaced responses (was 0.1)
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

    def _get(self, c: str) -> list:
        v = self.s.get(c)
        if v is None:
            v = self.s[c] = [MU0, VAR0, None, 0, 0.0]
        while len(v) < 5:
            v.append(0 if len(v) == 3 else 0.0)
        return v

    def _rate_belief(self) -> tuple[float, float]:
        """The learning rate's mean and variance (the prior until an answer has moved it)."""
        r = self.s.get(RATE_KEY)
        return (r[0], r[1]) if r else (RATE_M0, self.rate_var0)

    def _rate(self) -> list:
        r = self.s.get(RATE_KEY)
        if r is None:
            r = self.s[RATE_KEY] = [RATE_M0, self.rate_var0]
        return r

    def _marginal(self, v: list | None) -> tuple[float, float]:
        """Mean and variance of the concept's proficiency, the learning rate integrated out."""
        if v is None:
            return MU0, VAR0
        beta = v[4] if len(v) > 4 else 0.0
        if not beta:
            return v[0], v[1]
        rm, rv = self._rate_belief()
        return v[0] + beta * rm, v[1] + beta * beta * rv

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

    @staticmethod
    def _score(mu: float, y: float, d: float, guess: float, weight: float) -> tuple[float, float]:
        """(information, score) of one response at proficiency ``mu``: the Laplace step's terms."""
        s = _sig(mu - d)
        top = (1.0 - guess) * (1.0 - SLIP)
        p = min(max(guess + top * s, 1e-4), 1 - 1e-4)
        dp = top * s * (1.0 - s)
        return weight * dp * dp / (p * (1.0 - p)), weight * dp * (y - p) / (p * (1.0 - p))

    def _step(self, v: list, y: float, d: float, guess: float, weight: float, *, rate: bool) -> None:
        """One Laplace step. With ``rate``, on the joint belief over (proficiency, learning
        rate) - the concept's proficiency is v[0] + v[4] * rate + N(0, v[1]) given the rate -
        then factorised back into the rate's belief and the concept's conditional; without,
        on the concept's conditional alone (the rate is left as it is)."""
        beta = v[4]
        rm, rv = self._rate_belief()
        if not rate or not beta or rv <= 0.0:
            mu = v[0] + beta * rm
            info, score = self._score(mu, y, d, guess, weight)
            var2 = 1.0 / (1.0 / v[1] + info)
            v[0] += var2 * score
            v[1] = var2
            return
        r = self._rate()
        mt = v[0] + beta * rm
        ptt, ptr = v[1] + beta * beta * rv, beta * rv
        info, score = self._score(mt, y, d, guess, weight)
        # Sherman-Morrison: the answer informs the proficiency only; the rate through ptr
        k = info / (1.0 + info * ptt)
        ptt2, ptr2, prr2 = ptt - k * ptt * ptt, ptr - k * ptt * ptr, rv - k * ptr * ptr
        mt2, rm2 = mt + ptt2 * score, rm + ptr2 * score
        # practice never makes a learner worse: a run of failures (guessing, a bad day) can
        # slow the expected gain to RATE_FLOOR but not turn it negative
        rm2 = max(RATE_FLOOR, rm2)
        r[0], r[1] = rm2, prr2
        v[4] = ptr2 / prr2
        v[1] = max(ptt2 - ptr2 * ptr2 / prr2, 1e-6)
        v[0] = mt2 - v[4] * rm2

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
        spaced = t is not None and v[2] is not None and t - v[2] >= SPACED
        # forget the time since the last response as belief() and predict() do, then count the
        # retrieval as spaced (until 2026-12-05 the count came first, so an update forgot half
        # of what the prediction just before it had)
        self._age(v, t)
        if spaced:
            v[3] += 1
        beta = v[4]
        rm, rv = self._rate_belief()
        if beta > 0.0 and RATE_KEEP < 1.0:
            # older gains settle into the rate-free part at the current rate estimate (mean and
            # variance unchanged), so the rate's weight on a concept stays bounded
            v[0] += (1.0 - RATE_KEEP) * beta * rm
            v[1] += (1.0 - RATE_KEEP**2) * beta * beta * rv
            v[4] = RATE_KEEP * beta
        v_before = v[1]
        # the attempt's gain, LEARN times the learner's rate, fading out towards CEILING: beyond
        # it practice adds nothing an item can measure (and a long run of right answers on
        # easy items would otherwise be read as ever-growing proficiency)
        v[4] += self.learn * min(1.0, max(0.0, CEILING - (v[0] + v[4] * rm)))
        # process noise, but never less sure than about a concept never seen: answers on items
        # far too easy say almost nothing, and the noise would otherwise pile up without end
        v[1] = min(v[1] + self.q, max(v_before, VAR0))
        self._step(v, 1.0 if correct else 0.0, difficulty - hint_relief(hints), guess, 1.0, rate=True)
        if t is not None:
            v[2] = t

    def evidence(self, c: str, weight: float, t: float | None = None) -> None:
        """Soft evidence: ``weight`` > 0 pseudo-successes, < 0 pseudo-failures (typical item).
        It moves the belief as of the concept's last response and leaves the forgetting clock
        alone: forgetting is a function of the time since the last *response* (log-shaped, so
        ageing in many small steps would overstate it). It leaves the learning rate alone too:
        a neighbour's answer says something about what is known here, not how fast it was
        learnt; so it steps on the belief *given* the rate, and on a well-practised concept
        (whose variance is partly the rate's) it moves the mean less than it did before the
        rate existed. ``t`` is accepted for symmetry."""
        if not weight:
            return
        v = self._get(c)
        self._step(v, 1.0 if weight > 0 else 0.0, 0.0, 0.0, abs(weight), rate=False)

    def set_prior(self, c: str, p_known: float, t: float | None = None) -> None:
        m = p_known * KNOWN_MU + (1 - p_known) * MU0
        var = p_known * KNOWN_VAR + (1 - p_known) * VAR0 + p_known * (1 - p_known) * (KNOWN_MU - MU0) ** 2
        self.s[c] = [m, var, t, 0, 0.0]

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
            v = [MU0, VAR0, None, 0, 0.0]
        dmu, dvar = self._forgetting(v, t)
        # the next response comes after one more attempt's expected gain (as in update, but
        # without its fade towards CEILING: fading here too was measured, 2026-12-05 - band
        # 0.630 -> 0.617 on random 30, whole-ramp mastery on random 100 94% -> 81%)
        beta = (v[4] if len(v) > 4 else 0.0) + self.learn
        rm, rv = self._rate_belief()
        mu = v[0] - dmu + beta * rm
        var = v[1] + dvar + self.q + beta * beta * rv
        return mu - difficulty, var
