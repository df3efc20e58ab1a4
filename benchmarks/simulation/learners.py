"""Simulated learners with a ground truth (plain Python + numpy).

Each learner has, per concept, a proficiency ``theta`` (logits): the true probability of a
right answer on an item of difficulty ``d`` is

    p = guess + (1 - guess) * (1 - SLIP) * sigmoid(theta_now - d)

(``guess`` = 1/choices for multiple choice, 0.02 otherwise), halved on the non-guess part
for an item that can expose a misconception the learner holds. A concept is *mastered* when
``sigmoid(theta_now - ref) >= 0.9`` (``theta_now - ref >= MASTERED``: 90% on a typical
question of the concept, whose difficulty ``ref`` is the median of its authored items:
``CourseGraph.reference_difficulty``). Every level below (known, unknown, half-learned, the
cap of 5) is relative to ``ref`` too; until 2026-12-05 they were relative to difficulty 0,
so on an authored ramp whose early concepts have only easy questions (-3.0..-2.2) a learner
had to reach 99% on them to count as mastered.

* **Initial knowledge** respects prerequisites: a level ``u`` per learner (a quarter know
  nothing), concepts well below the level known (theta ~ N(3.2, 0.5)), the rest unknown
  (theta ~ N(-3.5, 0.7)); a known concept with an unknown prerequisite is made unknown;
  some concepts on the edge of the known set are half-learned (theta in 0..2, not
  mastered) - the hard cases for placement.
* **Learning** from each attempt: theta += rate * (0.30 right, 0.20 wrong) * readiness *
  fit, where ``rate`` is the learner's speed (lognormal around 1), ``readiness`` is 1 with
  every prerequisite mastered and x0.35 per prerequisite that isn't (you can't build on
  what isn't there), and ``fit`` favours items that are neither trivial nor hopeless
  (x0.5 below 30% success, tapering above 90%). Reading a concept's material the first time
  it is served gives +2.0 * readiness.
* **Forgetting**: theta_now = theta - 0.35 * log(1 + days since the last attempt) /
  (1 + spaced reviews), where a spaced review is an attempt a day or more after the
  previous one.
* **Misconceptions**: on each concept not known at the start, each of its misconceptions
  is held with probability 0.35. While held: success on items that can expose it is
  halved, learning on the concept is x0.6, and a wrong answer on such an item matches the
  misconception (recognisably) with probability 0.8. A probing question that exposes it
  clears it with probability 0.7 (the tutor then addresses it); a plain correction after a
  matched wrong answer clears it with probability 0.1; a right answer on an item that could
  have exposed it clears it with probability 0.2 (0.4 on a probing question).
* **Hints shown before answering** (the policy's scaffolding, or asked for) do part of the
  work: the first raises the chance of a right answer as if the learner were 1.0 logit
  more proficient, each further one half as much as the one before (1.0, 1.5, 1.75 ...);
  the learner learns less from a supported answer (gain x0.8 per hint: the assistance
  dilemma), though a question they can work out with help still beats one they bounce
  off (the x0.5 for hopeless items above).
* **"I don't know"** (placement only): when the learner's own chance is below 30%, they
  say so with a personal propensity (0.1..0.6) instead of guessing.
* **Time**: an item takes ~1 minute (lognormal; wrong answers 1.5x longer), reading new
  material 4 minutes; sessions of 25 minutes, one a day.

These are assumptions, stated so the benchmark can be judged: the policy's advantages
(placement skips known material, items near the target success, mastery gating, probing,
reviews) pay off here exactly to the extent that these mechanisms hold for real learners.
"""

from __future__ import annotations

import math
import random

import numpy as np

from learner.course_graph import CourseGraph, ItemInfo

SLIP = 0.03
MASTERED = math.log(0.9 / 0.1)  # theta at which a typical item is right 90% of the time
DAY = 86400.0
SESSION = 25 * 60.0
HINT_BOOST = 1.0  # logits the first hint shown is worth (each further one: half as much)
HINT_LEARNING = 0.8  # learning from a supported answer, per hint shown
# starting proficiency relative to the concept's typical question: known N(3.2, 0.5), unknown
# N(-3.5, 0.7), half-learned uniform on 0..2
START = {"known": (3.2, 0.5), "unknown": (-3.5, 0.7), "half": (0.0, 2.0)}
CAP = 5.0  # no proficiency beyond this above the typical question
RATE_SD = 0.3  # learners' learning rates: lognormal, sd of its log
MATERIAL = 2.0  # what reading a concept's material the first time gives (x readiness)


def practice_fit(p):
    """How much of an attempt's gain an item of true success ``p`` gives (float or array):
    half on a hopeless item (below 30%), all of it in between, tapering off above 90%."""
    p = np.asarray(p, dtype=float)
    return np.where(p < 0.3, 0.5, np.where(p <= 0.9, 1.0, np.maximum(0.3, 1.0 - (p - 0.9) * 7.0)))


def hint_boost(hints: int) -> float:
    return 2.0 * HINT_BOOST * (1.0 - 0.5 ** max(0, hints))


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class SimLearner:
    def __init__(
        self, graph: CourseGraph, seed: int, *, t0: float = 1_800_000_000.0, misconception_rate: float = 0.35
    ):
        self.graph = graph
        self.rng = random.Random(seed)
        rng = self.rng
        n = len(graph.order)
        self.n = n
        self.idx = graph.index
        self.rate = math.exp(rng.gauss(0.0, RATE_SD))
        self.dk_propensity = rng.uniform(0.1, 0.6)
        # initial knowledge: a level along the ramp, closed under prerequisites
        u = -0.2 if rng.random() < 0.25 else rng.uniform(0.0, 1.1)
        theta = np.empty(n)
        pos = np.arange(n) / max(1, n - 1)
        known = np.zeros(n, dtype=bool)
        # proficiency is measured against each concept's typical question
        self.ref = np.array([graph.reference_difficulty[c] for c in graph.order], dtype=float)
        for i in range(n):
            k = rng.random() < _sig(14.0 * (u - pos[i]))
            k = k and all(known[p] for p in graph.prereq_idx[i])
            known[i] = k
            theta[i] = self.ref[i] + (rng.gauss(*START["known"]) if k else rng.gauss(*START["unknown"]))
        # which of the START distributions each concept's proficiency was drawn from (for the
        # ideal observer, benchmarks.simulation.ideal, which is told this)
        self.start_kind = ["known" if k else "unknown" for k in known]
        for i in range(n):  # half-learned concepts at the edge of what is known
            if not known[i] and all(known[p] for p in graph.prereq_idx[i]) and rng.random() < 0.3:
                theta[i] = self.ref[i] + rng.uniform(*START["half"])
                self.start_kind[i] = "half"
        self.theta = theta
        self.last_t = np.full(n, np.nan)
        self.spaced = np.zeros(n)
        self.seen_material = known.copy()
        self.t = t0
        self.session_start = t0
        self.items_answered = 0
        # misconceptions held: concept index -> set of slugs
        self.misconceptions: dict[int, set[str]] = {}
        for i, c in enumerate(graph.order):
            if known[i]:
                continue
            slugs = set()
            for it in graph.items.get(c, ()):
                slugs |= it.probes
            held = {s for s in sorted(slugs) if rng.random() < misconception_rate}
            if held:
                self.misconceptions[i] = held
        self.true_item_difficulty: dict[str, float] = {}
        # every concept truly mastered at least once (not necessarily all at the same time)
        self.ever = self.mastered()
        self.cover_at: int | None = 0 if self.ever.all() else None
        # attempts per concept, and the attempts it took to first truly master each concept
        # that wasn't mastered at the start
        self.attempts = np.zeros(n, dtype=int)
        self.unknown0 = ~self.ever.copy()
        self.attempts_to_master: dict[int, int] = {}

    def per_concept_items(self) -> tuple[list[int], int]:
        """Attempts to first true mastery for each concept not mastered at the start (a
        concept never mastered counts its attempts so far: a lower bound), and how many of
        them were never mastered."""
        out, missed = [], 0
        for i in range(self.n):
            if not self.unknown0[i]:
                continue
            if i in self.attempts_to_master:
                out.append(self.attempts_to_master[i])
            else:
                out.append(int(self.attempts[i]))
                missed += 1
        return out, missed

    # ---- ground truth ---------------------------------------------------------------------
    def theta_now(self, i: int, t: float | None = None) -> float:
        t = self.t if t is None else t
        lt = self.last_t[i]
        if lt != lt:  # never practised: no forgetting of the initial state modelled
            return float(self.theta[i])
        days = max(0.0, t - lt) / DAY
        return float(self.theta[i] - 0.35 * math.log1p(days) / (1.0 + self.spaced[i]))

    def thetas_now(self) -> np.ndarray:
        days = np.where(
            np.isnan(self.last_t), 0.0, np.maximum(0.0, self.t - np.nan_to_num(self.last_t)) / DAY
        )
        return self.theta - 0.35 * np.log1p(days) / (1.0 + self.spaced)

    def is_mastered(self, i: int) -> bool:
        return self.theta_now(i) - self.ref[i] >= MASTERED

    def mastered(self) -> np.ndarray:
        return self.thetas_now() - self.ref >= MASTERED

    def all_mastered(self) -> bool:
        return bool(self.mastered().all())

    def difficulty(self, item: ItemInfo) -> float:
        return self.true_item_difficulty.get(item.id, item.difficulty)

    def p_correct(self, item: ItemInfo, hints: int = 0) -> float:
        z, guess, top = self.success_terms(item, hints)
        return guess + top * _sig(z)

    def success_terms(self, item: ItemInfo, hints: int = 0) -> tuple[float, float, float]:
        """(z, guess, top) with P(right) = guess + top * sigmoid(z): the logit of knowing it
        now (hints shown included), the guessing floor, and the ceiling (slips; halved by a
        misconception the item exposes)."""
        i = self.idx[item.concept]
        guess = item.guess_rate or 0.02
        top = (1.0 - guess) * (1.0 - SLIP) * (0.5 if self._exposes(i, item) else 1.0)
        return self.theta_now(i) + hint_boost(hints) - self.difficulty(item), guess, top

    def _exposes(self, i: int, item: ItemInfo) -> str | None:
        held = self.misconceptions.get(i)
        if not held:
            return None
        for s in sorted(held & item.probes):
            return s
        return None

    def gain_before_fit(self, i: int, correct: bool, hints: int) -> float:
        """What an attempt on concept ``i`` teaches, before the item's fit (``practice_fit``):
        the learner's rate, more after a right answer, less without the prerequisites, after
        hints shown, or while a misconception is held."""
        gain = self.rate * (0.30 if correct else 0.20) * self._readiness(i) * HINT_LEARNING**hints
        return gain * 0.6 if self.misconceptions.get(i) else gain

    def _readiness(self, i: int) -> float:
        r = 1.0
        for p in self.graph.prereq_idx[i]:
            if not self.is_mastered(p):
                r *= 0.35
        return r

    # ---- acting ---------------------------------------------------------------------------
    def read_material(self, concept: str) -> None:
        i = self.idx[concept]
        if not self.seen_material[i]:
            self.seen_material[i] = True
            self.theta[i] = self.theta_now(i) + MATERIAL * self._readiness(i)
            self._spend(240.0)

    def answer(
        self, item: ItemInfo, *, probing: bool = False, hints: int = 0
    ) -> tuple[bool, str | None, float]:
        """Answer ``item`` after ``hints`` hints: (correct, misconception slug recognised in
        the wrong answer or None, the true success probability before answering, hints
        included). Learning, forgetting and time are applied."""
        i = self.idx[item.concept]
        rng = self.rng
        p = self.p_correct(item, hints=hints)
        correct = rng.random() < p
        exposed = self._exposes(i, item)
        matched = None
        if exposed is not None:
            if not correct and rng.random() < 0.8:
                matched = exposed
                if rng.random() < (0.7 if probing else 0.1):
                    self.misconceptions[i].discard(exposed)
            elif correct and rng.random() < (0.4 if probing else 0.2):
                self.misconceptions[i].discard(exposed)  # worked it out
        # learning (after forgetting is applied)
        th = self.theta_now(i)
        if self.last_t[i] == self.last_t[i] and (self.t - self.last_t[i]) >= DAY:
            self.spaced[i] += 1
        gain = self.gain_before_fit(i, correct, hints) * float(practice_fit(p))
        self.theta[i] = min(self.ref[i] + CAP, th + gain)
        self.last_t[i] = self.t
        self.items_answered += 1
        self.attempts[i] += 1
        if not self.ever[i] and self.theta[i] - self.ref[i] >= MASTERED:
            self.ever[i] = True
            self.attempts_to_master[i] = int(self.attempts[i])
            if self.cover_at is None and self.ever.all():
                self.cover_at = self.items_answered
        self._spend(rng.lognormvariate(math.log(60.0), 0.35) * (1.0 if correct else 1.5))
        return correct, matched, p

    def placement_answer(self, item: ItemInfo) -> tuple[str, float]:
        """An answer during placement (no learning, some time): outcome and true p."""
        i = self.idx[item.concept]
        own = _sig(self.theta_now(i) - self.difficulty(item))
        p = self.p_correct(item)
        if own < 0.3 and self.rng.random() < self.dk_propensity:
            out = "dont_know"
        else:
            out = "correct" if self.rng.random() < p else "incorrect"
        self._spend(self.rng.lognormvariate(math.log(45.0), 0.35))
        return out, p

    def _spend(self, seconds: float) -> None:
        self.t += seconds
        if self.t - self.session_start >= SESSION:  # end of today's session
            self.session_start = self.session_start + DAY
            self.t = max(self.t, self.session_start)
