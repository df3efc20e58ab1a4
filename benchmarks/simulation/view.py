"""The policy's view of a simulated learner, built as the study loop builds its own (the
mastery tracker, prerequisite-graph evidence after each answer, one FSRS review card per
concept, recent items and a pending misconception probe), plus a fitted RampKT estimator and
its per-learner state for the benchmark's --mastery kt / --predict kt|blend comparisons.
Implements :class:`tutor.policy.LearnerView`.

The hot path per answer (:meth:`SimView.record`) is O(1) in the length of the history. It
also updates RampKT, which the study loop no longer runs, and does no database work, so the
latency the benchmark reports is a measure of the decision, not of a request.
"""

from __future__ import annotations

import math
import random
from collections import deque
from datetime import UTC, datetime

from learner.course_graph import CourseGraph, ItemInfo
from learner.graph_evidence import propagate_evidence
from learner.mastery import MasteryTracker, band_probability, hint_relief
from learner.review import recall_probability, review_card_new, review_card_update
from tutor.policy import p_in_band

# how strongly a finished placement's P(mastered) enters RampKT's state, in pseudo-answers
PLACEMENT_EVIDENCE = 3.5
RECENT = 20

_EVIDENCE_CACHE: dict[int, tuple[CourseGraph, dict]] = {}


def graph_evidence(graph: CourseGraph, concept: str, correct: bool) -> dict[str, float]:
    """``learner.graph_evidence.propagate_evidence`` for this graph, computed once per
    (concept, outcome) and cached on the graph object's identity."""
    hit = _EVIDENCE_CACHE.get(id(graph))
    if hit is None or hit[0] is not graph:
        hit = _EVIDENCE_CACHE[id(graph)] = (graph, {})
    table = hit[1]
    key = (concept, bool(correct))
    w = table.get(key)
    if w is None:
        w = table[key] = propagate_evidence(graph.prerequisites, concept, bool(correct))
    return w


def blend(p_kt: float, p_tracker: float, w: float = 0.5) -> float:
    """The average in logits of the estimator's and the tracker's predicted success."""
    lo, hi = 1e-4, 1 - 1e-4
    a, b = min(max(p_kt, lo), hi), min(max(p_tracker, lo), hi)
    z = (1 - w) * math.log(a / (1 - a)) + w * math.log(b / (1 - b))
    return 1.0 / (1.0 + math.exp(-z))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


class SimView:
    """``mastery``: "tracker" (default: :class:`~.mastery.MasteryTracker`, see there why)
    or "kt" (``estimator.mastery().p_mastered``, refreshed for the concepts an answer
    touches); ``predict``: "tracker" (default: the tracker's expected success, as the Django
    side does), "blend" (logit average of the two) or "kt" (the estimator's prediction at the item's
    calibrated difficulty)."""

    def __init__(
        self,
        graph: CourseGraph,
        estimator,
        *,
        now: float,
        mastery: str = "tracker",
        predict: str = "tracker",
        calibrated_items: bool = False,
    ):
        if mastery not in ("tracker", "kt") or predict not in ("tracker", "kt", "blend"):
            raise ValueError("mastery is 'tracker' or 'kt'; predict 'tracker', 'kt' or 'blend'")
        self.mastery_source = mastery
        self.predict_source = predict
        self.tracker = MasteryTracker()
        self.graph = graph
        self.est = estimator
        self.state = estimator.new_state()
        self.now = now
        prior = {c: float(estimator.mastery(self.state, c, now).p_mastered) for c in graph.order}
        self.p_m = prior
        self.cards: dict[str, dict] = {}
        self.due_at: dict[str, float] = {}
        self.last_at: dict[str, float] = {}
        self.n_att: dict[str, int] = {}
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.probe: tuple[str, str] | None = None
        # item difficulties: the authored ones (as the study loop starts). RampKT's calibrated
        # item difficulties are strongly shrunk and confounded with its learner features; on
        # the simulated ramps they were further from the truth than the authored ones.
        self._item_d = {} if not calibrated_items else getattr(estimator, "item_difficulty", {})

    # ---- LearnerView ----------------------------------------------------------------------
    def mastery(self, concept: str) -> float:
        if self.mastery_source == "tracker":
            return self.tracker.mastery(concept, self.now)
        return self.p_m[concept]

    def predict(self, item: ItemInfo, hints: int = 0) -> float:
        d = self._item_d.get(item.id, item.difficulty)
        rel = self.graph.relative_difficulty(item, d)
        if self.predict_source == "tracker":
            return self.tracker.predict(item.concept, rel, item.guess_rate, self.now, hints=hints)
        # the estimator knows hints only as history; shown hints relieve the item as in the tracker
        p = self.est.predict_at_difficulty(self.state, item.concept, d - hint_relief(hints), self.now)
        if self.predict_source == "blend":
            return blend(p, self.tracker.predict(item.concept, rel, item.guess_rate, self.now, hints=hints))
        return p

    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        """P(true success in ``band``): the tracker's belief when it predicts, else the policy's
        default reading of the prediction in use."""
        if self.predict_source != "tracker":
            return p_in_band(self.predict(item, hints), band)
        rel = self.graph.relative_difficulty(item, self._item_d.get(item.id, item.difficulty))
        return self.tracker.in_band(item.concept, rel, band, item.guess_rate, self.now, hints=hints)

    def review_due(self, concept: str) -> bool:
        due = self.due_at.get(concept)
        return due is not None and due <= self.now

    def recall_probability(self, concept: str) -> float:
        card = self.cards.get(concept)
        return recall_probability(card, now=_dt(self.now)) if card else 0.0

    def recent_items(self):
        return self.recent

    def pending_probe(self):
        return self.probe

    def attempts(self, concept: str) -> int:
        return self.n_att.get(concept, 0)

    def days_since(self, concept: str) -> float | None:
        t = self.last_at.get(concept)
        return None if t is None else (self.now - t) / 86400.0

    # ---- updates ----------------------------------------------------------------------------
    def _refresh(self, concepts) -> None:
        est, st, t = self.est, self.state, self.now
        for c in concepts:
            self.p_m[c] = float(est.mastery(st, c, t).p_mastered)

    def record(
        self,
        item: ItemInfo,
        correct: bool,
        *,
        hints: int = 0,
        misconception: str | None = None,
        served_probe: bool = False,
        study: bool = True,
    ) -> None:
        """Absorb one graded answer at ``self.now`` (``study=False``: a placement answer, which
        is evidence for the estimator but doesn't make the concept "started")."""
        c = item.concept
        t = self.now
        self.est.update(self.state, c, int(correct), item=item.id, t=t, hints=hints)
        w = graph_evidence(self.graph, c, correct)
        for k, v in w.items():
            self.est.apply_evidence(self.state, k, v)
        if self.mastery_source == "kt":
            self._refresh((c, *w))
        if not study:
            # placement answers reach the tracker through the placement's result (its prior),
            # as in the study loop: fed in as practice, they would also count a practice gain
            # and teach the learner's learning rate from questions that taught nothing
            return
        tr = self.tracker
        tr.update(
            c,
            correct,
            difficulty=self.graph.relative_difficulty(item, self._item_d.get(item.id)),
            guess=item.guess_rate,
            t=t,
            hints=hints,
        )
        for k, v in w.items():
            tr.evidence(k, v, t)
        card = self.cards.get(c) or review_card_new()
        card = self.cards[c] = review_card_update(card, correct=correct, hints=hints, when=_dt(self.now))
        self.due_at[c] = datetime.fromisoformat(card["due"]).timestamp()
        self.last_at[c] = self.now
        self.n_att[c] = self.n_att.get(c, 0) + 1
        self.recent.append(item.id)
        if served_probe:
            self.probe = None
        if misconception is not None and not served_probe:
            self.probe = (c, misconception)

    def apply_placement(self, marginals: dict[str, float]) -> None:
        """A finished placement's P(mastered) as soft evidence in the estimator state."""
        for c, p in marginals.items():
            self.est.apply_evidence(self.state, c, PLACEMENT_EVIDENCE * (2.0 * p - 1.0))
            self.tracker.set_prior(c, p, self.now)
        if self.mastery_source == "kt":
            self._refresh(marginals)


class PerfectInformationView(SimView):
    """The same policy with perfect information: predicted success is the simulated
    learner's true success probability and P(mastered) is 1 exactly when the learner truly
    masters the concept. It measures the *ceiling* of a world (ramp + learners): what is
    left between the estimators and it is estimation; what is left between it and a target
    is the world itself (too few items at the right difficulty, first tries below any item)."""

    def __init__(self, graph: CourseGraph, estimator, *, sim, now: float):
        super().__init__(graph, estimator, now=now)
        self.sim = sim

    def mastery(self, concept: str) -> float:
        return 1.0 if self.sim.is_mastered(self.sim.idx[concept]) else 0.0

    def predict(self, item: ItemInfo, hints: int = 0) -> float:
        return self.sim.p_correct(item, hints=hints)

    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        return 1.0 if band[0] <= self.sim.p_correct(item, hints=hints) <= band[1] else 0.0


class NoisyBeliefView(SimView):
    """Diagnostic: the policy choosing items from a *calibrated belief of a given quality*
    instead of the tracker's - the learner's true success logit plus an error drawn from
    N(0, ``sd``^2) (one draw per concept and moment), held with exactly that uncertainty.
    Mastery and the predicted success still come from the tracker. It answers "how good
    would the knowledge model's prediction have to be for the policy to keep X% of practice
    in the band in this world?"
    (``simulate_learners --belief-sd``)."""

    def __init__(self, graph: CourseGraph, estimator, *, sim, now: float, sd: float, seed: int = 0):
        super().__init__(graph, estimator, now=now)
        self.sim = sim
        self.sd = sd
        self._rng = random.Random(f"belief:{seed}")
        self._errors: dict[str, float] = {}
        self._errors_at = None

    def _belief(self, item: ItemInfo, hints: int) -> tuple[float, float, float]:
        if self._errors_at != self.now:
            self._errors, self._errors_at = {}, self.now
        e = self._errors.get(item.concept)
        if e is None:
            e = self._errors[item.concept] = self._rng.gauss(0.0, self.sd)
        z, guess, top = self.sim.success_terms(item, hints)
        return z + e, guess, top

    # ``predict`` stays the tracker's: it words the reason and decides when a question is hard
    # enough to consider showing hints up front; letting the noisy truth decide that too
    # changed how often hints were shown (20% of practice instead of 18%), and with them how
    # fast learners learnt and the gate saw it - a different policy, not a better belief
    # (measured 2026-12-05, sd 0.5: 0.64 in the band against 0.79).
    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        m, guess, top = self._belief(item, hints)
        return band_probability(m, self.sd, band, guess, top)
