"""The ideal observer: the best any knowledge model could do in the simulated world (diagnostic).

It knows the simulated world's rules exactly and, by default, everything about a simulated
learner except where each concept's proficiency started: the learning rate, which
misconceptions are held and when they clear, which prerequisites are missing, every item's
true difficulty, forgetting, the material's effect - and which of the starting distributions
(known / unknown / half-learned, ``START``) a concept was drawn from. It sees every answer,
placement included. Per concept it keeps the exact posterior over the starting draw on a grid
of ``POINTS`` values; since everything else is known and the world is deterministic given the
answers, each grid point is carried forward exactly as the truth would be (learning, fit,
forgetting, material), and each answer reweights the points by its likelihood.

``learns`` takes some of that knowledge away, to be learnt from the answers as exactly as the
rest is tracked:

* ``"rate"``: the learner's learning rate is unknown: a second grid axis of ``RATES`` values
  under the population's prior (lognormal, ``RATE_SD``). Given the rate the concepts are
  independent, so the rate's posterior is the prior times every concept's marginal likelihood
  of its answers under each rate, and each concept keeps its posterior over the start given
  the rate: exact Bayes, O(``POINTS`` x ``RATES``) per answer;
* ``"start"``: which starting distribution a concept was drawn from is unknown: the prior is
  the population's mixture for that concept (``start_kind_frequencies``, from sampled learners
  of the same ramp; early concepts are more often known);
* ``"difficulties"``: the items' true difficulties are unknown: the observer reads the ones the
  tutor sees (authored, or calibrated from a log with ``--item-difficulties calibrated``) -
  what a course's log can teach about its items, where the rest of this observer's knowledge
  is per learner. Its grid is then no longer exact (the likelihood is off by each item's
  error), so this one is a reference point rather than a bound.

Nothing in Ramp can know what this observer knows, so it is a bound, not a model: "with
right/wrong answers alone, the policy cannot keep more practice in the band than this". With
``learns`` it is a tighter bound: what the best possible inference reaches when it must learn
those too, while still being told the rest.

    python -m benchmarks.simulation.cli --random 30 --ideal-observer items           # it picks the items
    python -m benchmarks.simulation.cli --random 30 --ideal-observer items-and-gate  # and decides mastery
    python -m benchmarks.simulation.cli --random 30 --ideal-observer items-and-gate \
        --observer-learns rate,start
    python -m benchmarks.simulation.cli --quick --ideal-observer items               # seconds
"""

from __future__ import annotations

import numpy as np

from learner.course_graph import CourseGraph, ItemInfo

from .learners import CAP, MASTERED, RATE_SD, START, SimLearner, practice_fit
from .view import SimView

POINTS = 400
RATES = 21  # grid points for an unknown learning rate (over +-3 sd of its log)
MODES = ("items", "items-and-gate")
LEARNABLE = ("rate", "start", "difficulties")


def parse_learns(text: str | None) -> frozenset[str]:
    """``"rate,start"`` -> frozenset; a clear error for anything else."""
    names = frozenset(x.strip() for x in (text or "").split(",") if x.strip())
    bad = sorted(names - set(LEARNABLE))
    if bad:
        raise ValueError(f"the ideal observer can learn {', '.join(LEARNABLE)}, not {', '.join(bad)}")
    return names


def start_kind_frequencies(
    graph: CourseGraph, *, samples: int = 400, seed: int = 0
) -> list[dict[str, float]]:
    """Per concept (in ``graph.order``), how often the population starts it known, unknown or
    half-learned: the prior of an observer that isn't told (from ``samples`` learners whose
    seeds are disjoint from the benchmark's)."""
    counts = [{k: 0 for k in START} for _ in graph.order]
    for k in range(samples):
        sim = SimLearner(graph, 90_000_000 + seed * 10_000 + k)
        for i, kind in enumerate(sim.start_kind):
            counts[i][kind] += 1
    return [{k: v / samples for k, v in c.items()} for c in counts]


def _start_density(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "half":
        lo, hi = START["half"]
        return ((x >= lo) & (x <= hi)) / (hi - lo)
    mu, sd = START[kind]
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2.0 * np.pi))


class ObservedLearner(SimLearner):
    """A simulated learner whose every answer also updates the ideal observer's grids.

    Per concept: ``x`` (proficiency as stored, like ``self.theta[i]``, at each start point and
    rate: POINTS x R) and ``w`` (P(start point | rate, the answers on the concept), each column
    normalised); per concept too, the log marginal likelihood of its answers under each rate.
    R = 1 (the true rate) unless the rate is learnt."""

    def __init__(
        self,
        graph: CourseGraph,
        seed: int,
        *,
        learns=frozenset(),
        start_prior: list[dict[str, float]] | None = None,
        seen_difficulty: dict[str, float] | None = None,
        **kw,
    ):
        super().__init__(graph, seed, **kw)
        self.learns = frozenset(learns)
        if "start" in self.learns and start_prior is None:
            raise ValueError(
                "an observer that learns where concepts start needs the population's start_prior"
            )
        if "difficulties" in self.learns and seen_difficulty is None:
            raise ValueError(
                "an observer that learns item difficulties needs the ones the tutor sees (seen_difficulty)"
            )
        self.start_prior = start_prior
        self.seen_difficulty = seen_difficulty
        if "rate" in self.learns:
            z = np.linspace(-3.0, 3.0, RATES)
            self.rates = np.exp(RATE_SD * z)
            prior = np.exp(-0.5 * z * z)
            self.log_rate_prior = np.log(prior / prior.sum())
        else:
            self.rates = np.array([self.rate])
            self.log_rate_prior = np.zeros(1)
        self.grid: dict[int, list[np.ndarray]] = {}
        self.log_like: dict[int, np.ndarray] = {}
        self._rate_post: np.ndarray | None = None

    # ---- the observer's belief --------------------------------------------------------------
    def _grid(self, i: int) -> list[np.ndarray]:
        g = self.grid.get(i)
        if g is None:
            if "start" in self.learns:
                x = np.linspace(
                    START["unknown"][0] - 4.0 * START["unknown"][1],
                    START["known"][0] + 4.0 * START["known"][1],
                    POINTS,
                )
                w = sum(f * _start_density(x, kind) for kind, f in self.start_prior[i].items() if f)
            elif self.start_kind[i] == "half":
                x = np.linspace(*START["half"], POINTS)
                w = np.ones(POINTS)
            else:
                mu, sd = START[self.start_kind[i]]
                x = np.linspace(mu - 4.0 * sd, mu + 4.0 * sd, POINTS)
                w = _start_density(x, self.start_kind[i])
            r = len(self.rates)
            g = self.grid[i] = [
                np.repeat((x + self.ref[i])[:, None], r, axis=1),
                np.repeat((w / w.sum())[:, None], r, axis=1),
            ]
            self.log_like[i] = np.zeros(r)
        return g

    def rate_posterior(self) -> np.ndarray:
        """P(rate | every answer so far), over ``self.rates`` (kept until the next answer)."""
        if self._rate_post is None:
            lp = self.log_rate_prior + sum(self.log_like.values(), np.zeros(len(self.rates)))
            p = np.exp(lp - lp.max())
            self._rate_post = p / p.sum()
        return self._rate_post

    def _grid_now(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(proficiency now at each grid point, weights given the rate): forgetting since the
        last answer is the same known shift for every point."""
        x, w = self._grid(i)
        return x + (self.theta_now(i) - self.theta[i]), w

    def points_now(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(proficiency now at each grid point, joint weights)."""
        x, w = self._grid_now(i)
        return x, w * self.rate_posterior()[None, :]

    def observed_terms(self, item: ItemInfo, hints: int = 0) -> tuple[float, float, float]:
        """``success_terms`` as the observer knows them: with the item difficulty the tutor sees
        when it learns difficulties."""
        z, guess, top = self.success_terms(item, hints)
        if "difficulties" in self.learns:
            z += self.difficulty(item) - self.seen_difficulty.get(item.id, item.difficulty)
        return z, guess, top

    def _knowing(self, i: int, x_now: np.ndarray, item: ItemInfo, hints: int = 0):
        """(P(knowing it) at proficiencies ``x_now``, guess, top): success is guess + top * that."""
        z, guess, top = self.observed_terms(item, hints)
        return _sig_array(x_now - self.theta_now(i) + z), guess, top

    def _reweigh(self, i: int, w: np.ndarray, like: np.ndarray) -> np.ndarray:
        """The weights after an answer of likelihood ``like``, each column (rate) renormalised;
        the column sums - P(this answer | rate, earlier answers) - enter the rate's likelihood."""
        w = w * like
        evidence = np.maximum(w.sum(axis=0), 1e-300)
        self.log_like[i] = self.log_like[i] + np.log(evidence)
        self._rate_post = None
        return w / evidence[None, :]

    def success_points(self, item: ItemInfo, hints: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(success at each grid point, weights) for ``item`` now."""
        i = self.idx[item.concept]
        x, w = self.points_now(i)
        own, guess, top = self._knowing(i, x, item, hints)
        return guess + top * own, w

    # ---- acting: the truth moves, and every grid point with it ------------------------------
    def read_material(self, concept: str) -> None:
        i = self.idx[concept]
        if self.seen_material[i]:
            return super().read_material(concept)
        x, w = self._grid_now(i)
        before = self.theta_now(i)
        super().read_material(concept)
        self.grid[i] = [x + (self.theta[i] - before), w]

    def answer(self, item: ItemInfo, *, probing: bool = False, hints: int = 0):
        i = self.idx[item.concept]
        x, w = self._grid_now(i)
        own, guess, top = self._knowing(i, x, item, hints)
        p = guess + top * own
        out = super().answer(item, probing=probing, hints=hints)
        w = self._reweigh(i, w, p if out[0] else 1.0 - p)
        # every point learns what the truth learnt, except for the item's fit, which depends on
        # the point's own success, and the rate, which is the point's own (the gain is linear in
        # it); the gain's other terms - readiness, a misconception cleared by this very answer -
        # are the truth's, recorded as it computed them
        gain = self._last_gain / self.rate * self.rates[None, :]
        self.grid[i] = [np.minimum(self.ref[i] + CAP, x + gain * practice_fit(p)), w]
        return out

    def gain_before_fit(self, i: int, correct: bool, hints: int) -> float:
        self._last_gain = super().gain_before_fit(i, correct, hints)
        return self._last_gain

    def placement_answer(self, item: ItemInfo):
        i = self.idx[item.concept]
        x, w = self._grid_now(i)
        own, guess, top = self._knowing(i, x, item)  # knowing it, before guessing and slips
        p = guess + top * own
        out, pt = super().placement_answer(item)
        # "I don't know" comes with the learner's own propensity when their chance is below 30%
        dk = np.where(own < 0.3, self.dk_propensity, 0.0)
        like = {"dont_know": dk, "correct": (1.0 - dk) * p, "incorrect": (1.0 - dk) * (1.0 - p)}[out]
        # the answer enters the rate's likelihood like any other (the same for every rate as
        # long as the concept hasn't been studied: placement comes first and teaches nothing)
        self.grid[i][1] = self._reweigh(i, w, like)
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
