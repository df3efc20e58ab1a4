"""The ideal observer: the best any knowledge model could do in the simulated world (diagnostic).

It knows everything about a simulated learner except where each concept's proficiency
started: the learning rate, which misconceptions are held and when they clear, which
prerequisites are missing, every item's true difficulty, forgetting, the material's effect -
and which of the starting distributions (known / unknown / half-learned, ``START``) a concept
was drawn from. It sees every answer, placement included. Per concept it keeps the exact
posterior over the starting draw on a grid of ``POINTS`` values; since everything else is
known and the world is deterministic given the answers, each grid point is carried forward
exactly as the truth would be (learning, fit, forgetting, material), and each answer
reweights the points by its likelihood.

Nothing in Ramp can know what this observer knows, so it is a bound, not a model: "with
right/wrong answers alone, the policy cannot keep more practice in the band than this".

    python -m learner.simulation.cli --random 30 --ideal-observer items           # it picks the items
    python -m learner.simulation.cli --random 30 --ideal-observer items-and-gate  # and decides mastery
    python -m learner.simulation.cli --quick --ideal-observer items               # seconds
"""

from __future__ import annotations

import numpy as np

from ..course_graph import CourseGraph, ItemInfo
from .learners import CAP, MASTERED, START, SimLearner, practice_fit
from .view import SimView

POINTS = 400
MODES = ("items", "items-and-gate")


class ObservedLearner(SimLearner):
    """A simulated learner whose every answer also updates the ideal observer's grid."""

    def __init__(self, graph: CourseGraph, seed: int, **kw):
        super().__init__(graph, seed, **kw)
        # concept index -> [grid of theta as stored (like self.theta[i]), weights]
        self.grid: dict[int, list[np.ndarray]] = {}

    # ---- the observer's belief --------------------------------------------------------------
    def _grid(self, i: int) -> list[np.ndarray]:
        g = self.grid.get(i)
        if g is None:
            kind = self.start_kind[i]
            if kind == "half":
                lo, hi = START["half"]
                x = np.linspace(lo, hi, POINTS)
                w = np.ones(POINTS)
            else:
                mu, sd = START[kind]
                x = np.linspace(mu - 4.0 * sd, mu + 4.0 * sd, POINTS)
                w = np.exp(-0.5 * ((x - mu) / sd) ** 2)
            g = self.grid[i] = [x + self.ref[i], w / w.sum()]
        return g

    def points_now(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(proficiency now at each grid point, weights): forgetting since the last answer is
        the same known shift for every point."""
        x, w = self._grid(i)
        return x + (self.theta_now(i) - self.theta[i]), w

    def success_points(self, item: ItemInfo, hints: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(true success at each grid point, weights) for ``item`` now."""
        i = self.idx[item.concept]
        x, w = self.points_now(i)
        z, guess, top = self.success_terms(item, hints)
        return guess + top * _sig_array(x - self.theta_now(i) + z), w

    # ---- acting: the truth moves, and every grid point with it ------------------------------
    def read_material(self, concept: str) -> None:
        i = self.idx[concept]
        if self.seen_material[i]:
            return super().read_material(concept)
        x, w = self.points_now(i)
        before = self.theta_now(i)
        super().read_material(concept)
        self.grid[i] = [x + (self.theta[i] - before), w]

    def answer(self, item: ItemInfo, *, probing: bool = False, hints: int = 0):
        i = self.idx[item.concept]
        x, w = self.points_now(i)
        p, _ = self.success_points(item, hints)
        out = super().answer(item, probing=probing, hints=hints)
        w = w * (p if out[0] else 1.0 - p)
        # every point learns what the truth learnt, except for the item's fit, which depends on
        # the point's own success (the gain's other terms - readiness, a misconception cleared
        # by this very answer - are the truth's, recorded as it computed them)
        self.grid[i] = [np.minimum(self.ref[i] + CAP, x + self._last_gain * practice_fit(p)), w / w.sum()]
        return out

    def gain_before_fit(self, i: int, correct: bool, hints: int) -> float:
        self._last_gain = super().gain_before_fit(i, correct, hints)
        return self._last_gain

    def placement_answer(self, item: ItemInfo):
        i = self.idx[item.concept]
        x, _ = self.points_now(i)
        z, guess, top = self.success_terms(item)
        own = _sig_array(x - self.theta_now(i) + z)   # knowing it, before guessing and slips
        p = guess + top * own
        out, pt = super().placement_answer(item)
        # "I don't know" comes with the learner's own propensity when their chance is below 30%
        dk = np.where(own < 0.3, self.dk_propensity, 0.0)
        like = {"dont_know": dk, "correct": (1.0 - dk) * p, "incorrect": (1.0 - dk) * (1.0 - p)}[out]
        g = self._grid(i)
        g[1] = g[1] * like / np.sum(g[1] * like)
        return out, pt


def _sig_array(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class IdealObserverView(SimView):
    """The policy's view with the ideal observer choosing the items (``in_band``) and, in
    mode "items-and-gate", deciding mastery too (P(the concept is truly mastered)); the
    predicted success that words the reason and triggers hints up front stays the tracker's."""

    def __init__(self, graph: CourseGraph, estimator, *, sim: ObservedLearner, now: float, mode: str):
        if mode not in MODES:
            raise ValueError(f"the ideal observer's mode is one of {', '.join(MODES)}, not {mode!r}")
        super().__init__(graph, estimator, now=now)
        self.sim = sim
        self.gate = mode == "items-and-gate"

    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        p, w = self.sim.success_points(item, hints)
        return float(np.sum(w * ((p >= band[0]) & (p <= band[1]))))

    def mastery(self, concept: str) -> float:
        if not self.gate:
            return super().mastery(concept)
        i = self.sim.idx[concept]
        x, w = self.sim.points_now(i)
        return float(np.sum(w * (x - self.sim.ref[i] >= MASTERED)))

