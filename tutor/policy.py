"""What to serve next: the tutoring policy (plain Python, no Django).

:func:`decide_next` looks at a learner through a small read-only view
(:class:`LearnerView`: P(mastered) per concept, predicted success per item and how likely
it is to land in the practice band, review state, recent items, a pending misconception
probe) and picks one of

* ``probe``    - the last answer matched a misconception and it hasn't been probed yet:
  an item of that concept that can diagnose the misconception (its ``probes`` contain the
  slug), else an easier item of the concept. "Probe, don't tell."
* ``review``   - a mastered concept whose FSRS review is due (lowest recall probability
  first). Reviews take at most half of the recent steps while there is new work, so a
  backlog of reviews never stalls progress.
* ``practice`` - a concept in progress: started, not mastered, every prerequisite
  mastered, or - once started - still above ``mastery_threshold - 0.15`` (hysteresis: an
  error on the new concept propagates a little negative evidence to its prerequisites,
  and a prerequisite sitting right at the threshold must not bounce the learner back).
  The one practised most recently first (continuity), else the one closest to mastery.
* ``new``      - a concept on the fringe (every prerequisite mastered, itself not, not
  started), first in ramp order.
* ``done``     - everything mastered and nothing due.

Mastery gates progress: a concept counts as mastered when P(mastered) >=
``graph.mastery_threshold`` (0.95 by default); ``new`` never serves a concept with an
unmastered prerequisite, and ``practice`` none with a prerequisite below the keep threshold.

The item for ``new``/``practice``/``review`` is the one most likely to have a true success
in the course's practice band (ties: the closest to ``graph.target_success``), skipping fixed
items served recently (templates yield fresh variants, so they may repeat). The band is
``PRACTICE_BAND`` (0.6-0.9) for the usual target success 0.85, and moves with the course's
``target_success`` (:func:`practice_band`): a course set to 0.7 practises on harder questions,
one set to 0.95 on easier ones. "Most likely" is the view's ``in_band(item, hints, band)``:
under the mastery tracker's belief, P(the learner's true success lies in the band). That is
not the same as asking whether the *expected* success lies in it: an uncertain belief pulls
the expected success towards 1/2, so an item chosen for an expected 0.78 would most often be
one the learner gets right 85-90% of the time (docs/knowledge-model.md has the measurements).

*Support.* For ``new`` and ``practice``, the policy may serve a question with its first hint
or two already shown (``hints`` on the decision; at most ``MAX_SUPPORT_HINTS``, never more than
the item has) when that makes the learner's success likelier to land in the band: a scaffolded
question the learner can work out beats one they bounce off. Every allowed number of hints is
weighed (a hint can move an uncertain learner's likely success into the band even when the
expected success already sits in it), and each costs ``HINT_COST`` of P(in band), so an unaided
question wins whenever it is nearly as good. Reviews and probes are never scaffolded: they
measure what the learner can do alone.

Every :class:`Decision` carries a one-sentence ``reason`` for the learner and educators,
and ``details`` with the candidates considered and their scores.

Cost: O(concepts) cheap view calls (mastery, review_due for mastered concepts) plus
predictions for the items of one concept; everything structural is precomputed once per
graph object (see :class:`learner.course_graph.CourseGraph`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from learner.course_graph import CourseGraph, ItemInfo
from learner.mastery import band_probability

KINDS = ("placement", "new", "practice", "review", "probe", "done")
# recent steps looked at for the review share; recent fixed items not repeated
REVIEW_WINDOW = 6
MAX_REVIEW_SHARE = 0.5
NO_REPEAT = 4
# a started concept keeps going while its prerequisites stay above threshold - KEEP_MARGIN
KEEP_MARGIN = 0.15
# the band of true success practice should land in (desirable difficulty)
PRACTICE_BAND = (0.6, 0.9)
DEFAULT_TARGET = 0.85  # the target success PRACTICE_BAND belongs to
# how far off (sd, logits) a bare predicted success is taken to be by p_in_band, for a view
# that predicts without a belief of its own (the benchmarks' estimator-driven views)
PREDICT_SD = 0.8
# scaffolding: hints shown up front on new/practice questions that are still too hard, and
# the P(in band) a hint must buy to be worth showing
MAX_SUPPORT_HINTS = 2
HINT_COST = 0.1


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1.0 - p))


def practice_band(target: float) -> tuple[float, float]:
    """The band of true success practice aims at in a course whose target success is
    ``target``: ``PRACTICE_BAND`` moved in logits by logit(target) - logit(0.85), so the usual
    target keeps 0.6-0.9 (the benchmark's band), 0.7 gives about 0.38-0.79 and 0.95 about
    0.83-0.97."""
    if target == DEFAULT_TARGET:
        return PRACTICE_BAND
    shift = _logit(target) - _logit(DEFAULT_TARGET)
    lo, hi = (1.0 / (1.0 + math.exp(-(_logit(b) + shift))) for b in PRACTICE_BAND)
    return lo, hi


def p_in_band(p: float, band: tuple[float, float] = PRACTICE_BAND, sd: float = PREDICT_SD) -> float:
    """P(the true success lies in ``band``) when the predicted success is ``p`` and the
    truth is off by a normal error of ``sd`` logits: highest at the band's middle in
    logits (about 0.79 for 0.6-0.9), not at its edge."""
    return band_probability(_logit(p), sd, band, 0.0, 1.0)


@dataclass(frozen=True)
class Decision:
    kind: str  # one of KINDS
    concept: str | None
    item_id: str | None
    predicted_success: float | None
    reason: str  # one human sentence
    details: dict = field(default_factory=dict)  # machine-readable: candidates and scores
    hints: int = 0  # hints shown with the question from the start (scaffolding)


class LearnerView(Protocol):
    """What the policy may ask about one learner (the study loop reads it from the database,
    the benchmarks from a simulated learner)."""

    def mastery(self, concept: str) -> float:
        """P(the concept is mastered) now."""

    def predict(self, item: ItemInfo, hints: int = 0) -> float:
        """Expected success on ``item`` answered after ``hints`` hints."""

    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        """P(the true success on ``item`` after ``hints`` hints lies in ``band``)."""

    def review_due(self, concept: str) -> bool: ...

    def recall_probability(self, concept: str) -> float: ...

    def recent_items(self) -> Sequence[str]:
        """Ids of the items served most recently, oldest first."""

    def pending_probe(self) -> tuple[str, str] | None:
        """(concept, misconception) the last answer matched, until it has been probed."""

    def attempts(self, concept: str) -> int:
        """Practice answers on the concept (placement answers don't make it started)."""

    def days_since(self, concept: str) -> float | None:
        """Days since the last answer on the concept (None: never answered)."""


def keep_threshold(mastery_threshold: float) -> float:
    """P(mastered) a prerequisite of a concept *already started* must keep (hysteresis):
    starting a concept needs every prerequisite mastered, but a small dip afterwards (a
    pseudo-failure propagated from an error on the new concept, a little forgetting) doesn't
    bounce the learner back; a real drop (below this) does."""
    return max(0.5, mastery_threshold - KEEP_MARGIN)


def _title(titles: Mapping[str, str] | None, concept: str) -> str:
    return titles.get(concept, concept) if titles else concept


def choose_item(
    graph: CourseGraph,
    learner: LearnerView,
    concept: str,
    recent: Sequence[str],
    *,
    target: float | None = None,
    max_difficulty: float | None = None,
    want_probe: str | None = None,
    support: int = 0,
) -> tuple[ItemInfo | None, float | None, list, int]:
    """The item of ``concept`` most likely to land in the practice band (ties: the predicted
    success closest to ``target``), and how many of its hints to show up front (0 unless
    ``support`` > 0).

    Fixed items among the last ``NO_REPEAT`` recent ones are skipped (unless nothing else is
    left: then the least recent). ``max_difficulty`` keeps only easier items when any
    exists; ``want_probe`` keeps only items probing that misconception when any exists;
    ``support`` allows up to that many hints shown with the question, each charged
    ``HINT_COST``. Returns (item, predicted success, [candidate rows for details], hints)."""
    target = graph.target_success if target is None else target
    band = practice_band(graph.target_success)
    items = graph.items_by_difficulty.get(concept, ())
    if not items:
        return None, None, [], 0
    if want_probe is not None:
        probing = [item for item in items if want_probe in item.probes]
        if probing:
            items = tuple(probing)
    if max_difficulty is not None:
        easier = [item for item in items if item.difficulty < max_difficulty]
        if easier:
            items = tuple(easier)
    last_seen = {item_id: position for position, item_id in enumerate(recent[-NO_REPEAT:])}
    fresh = [item for item in items if item.is_template or item.id not in last_seen]
    # A template (fresh numbers each time) at most twice in a row, while the concept has
    # anything else to offer: a learner shown the same question over and over learns the
    # question, not the concept. (Fixed items never come back within NO_REPEAT steps.)
    varied = [item for item in fresh if not (item.is_template and list(recent[-2:]) == [item.id, item.id])]
    pool = varied or fresh or sorted(items, key=lambda item: last_seen.get(item.id, -1))[:1]
    rows = []
    best, best_predicted, best_hints, best_score = None, None, 0, None
    for item in pool:
        for hints in range(min(support, item.n_hints) + 1):
            predicted = float(learner.predict(item, hints=hints))
            in_band = float(learner.in_band(item, hints, band))
            # lower is better: P(outside the band) plus the hints' cost, then the distance
            # to the target
            score = (round(1.0 - in_band + HINT_COST * hints, 6), abs(predicted - target))
            row = {
                "item": item.id,
                "difficulty": round(item.difficulty, 3),
                "p": round(predicted, 3),
                "in_band": round(in_band, 3),
                "score": round(score[0], 3),
            }
            if hints:
                row["hints"] = hints
            rows.append(row)
            if best_score is None or score < best_score:
                best, best_predicted, best_hints, best_score = item, predicted, hints, score
    return best, best_predicted, rows, best_hints


def progress_words(mastery: float, threshold: float) -> str:
    """How far along a concept the learner is, in a learner's words (P(mastered) behind it)."""
    if mastery >= threshold:
        return "you have mastered it"
    if mastery >= 0.7:
        return "you are nearly there"
    if mastery >= 0.3:
        return "you are getting there"
    return "you are just starting"


def challenge_words(predicted: float | None) -> str:
    """How hard the question should feel, in a learner's words (the predicted success)."""
    if predicted is None:
        return ""
    if predicted < 0.5:
        return "a stretch for now"
    if predicted < 0.75:
        return "a real challenge"
    if predicted < 0.92:
        return "one you can most likely get with some thought"
    return "a quick one"


def _numbers(**numbers) -> dict:
    """The figures behind a reason, kept for the curious (shown one click away)."""
    return {k: round(v, 3) for k, v in numbers.items() if v is not None}


def _support_sentence(hints: int, concept_title: str) -> str:
    if not hints:
        return ""
    which = "its first hint" if hints == 1 else f"its first {hints} hints"
    return (
        f" Every question on {concept_title} is still hard for you at this point, so this one "
        f"comes with {which} shown."
    )


def decide_next(
    *, graph: CourseGraph, learner: LearnerView, titles: Mapping[str, str] | None = None
) -> Decision:
    """The next step for ``learner`` on ``graph`` (see the module docstring).
    ``titles`` (concept -> title) only makes the reason sentences friendlier."""
    order = graph.order
    prerequisites = graph.prereq_idx  # by concept index, the indices of its prerequisites
    threshold = graph.mastery_threshold
    target = graph.target_success
    recent = list(learner.recent_items())

    # 1. a misconception to probe
    probe = learner.pending_probe()
    if probe is not None and probe[0] in graph.index:
        concept, slug = probe
        last_difficulty = None
        for item_id in reversed(recent):
            item = graph.item_by_id.get(item_id)
            if item is not None and item.concept == concept:
                last_difficulty = item.difficulty
                break
        has_probe_item = any(slug in item.probes for item in graph.items.get(concept, ()))
        item, predicted, rows, _ = choose_item(
            graph,
            learner,
            concept,
            recent,
            target=target,
            want_probe=slug if has_probe_item else None,
            max_difficulty=None if has_probe_item else last_difficulty,
        )
        if item is not None:
            how = (
                "a question that can tell whether it's that misconception"
                if has_probe_item
                else "an easier question on the same concept, to see where it goes wrong"
            )
            return Decision(
                "probe",
                concept,
                item.id,
                predicted,
                f"Your last answer on {_title(titles, concept)} looked like a common mix-up, so here "
                f"is {how}.",
                {
                    "misconception": slug,
                    "probing_item": has_probe_item,
                    "items": rows,
                    "numbers": _numbers(predicted_success=predicted),
                },
            )

    mastery = [float(learner.mastery(concept)) for concept in order]
    mastered = [p >= threshold for p in mastery]
    n_mastered = sum(mastered)
    recent_concepts = [graph.item_by_id[i].concept for i in recent if i in graph.item_by_id]
    keep = keep_threshold(threshold)
    in_progress, fringe_new, blocked_no_items = [], [], []
    for index, concept in enumerate(order):
        if mastered[index]:
            continue
        if not graph.items.get(concept):
            if all(mastered[p] for p in prerequisites[index]):
                blocked_no_items.append(concept)
        elif learner.attempts(concept) > 0:
            if all(mastery[p] >= keep for p in prerequisites[index]):
                in_progress.append(index)
        elif all(mastered[p] for p in prerequisites[index]):
            fringe_new.append(index)
    progress_possible = bool(in_progress or fringe_new)

    # 2. reviews due (mastered concepts only), limited to a share of the recent steps
    due = []
    for index, concept in enumerate(order):
        if mastered[index] and learner.review_due(concept):
            due.append((float(learner.recall_probability(concept)), index))
    due.sort()
    window = recent_concepts[-REVIEW_WINDOW:]
    review_share = (sum(1 for c in window if mastered[graph.index[c]]) / len(window)) if window else 0.0
    base_details = {
        "mastered": n_mastered,
        "concepts": len(order),
        "in_progress": [(order[i], round(mastery[i], 3)) for i in in_progress[:10]],
        "fringe": [order[i] for i in fringe_new[:10]],
        "due_reviews": [(order[i], round(recall, 3)) for recall, i in due[:10]],
        "review_share": round(review_share, 3),
    }
    if due and (not progress_possible or review_share < MAX_REVIEW_SHARE):
        recall, index = due[0]
        concept = order[index]
        item, predicted, rows, _ = choose_item(graph, learner, concept, recent, target=target)
        if item is not None:
            days = learner.days_since(concept)
            when = (
                f"it's been {days:.0f} days since you practised {_title(titles, concept)}"
                if days is not None and days >= 1
                else f"{_title(titles, concept)} is due for a check"
            )
            return Decision(
                "review",
                concept,
                item.id,
                predicted,
                f"Review: {when}, and memories fade: a quick question now keeps it.",
                {
                    **base_details,
                    "recall": round(recall, 3),
                    "items": rows,
                    "numbers": _numbers(recall_probability=recall, predicted_success=predicted),
                },
            )

    # 3. practice on a concept in progress: the most recent one, else the closest to mastery
    if in_progress:
        last_position = {concept: position for position, concept in enumerate(recent_concepts)}
        index = max(in_progress, key=lambda i: (last_position.get(order[i], -1), mastery[i]))
        concept = order[index]
        item, predicted, rows, hints = choose_item(
            graph, learner, concept, recent, target=target, support=MAX_SUPPORT_HINTS
        )
        return Decision(
            "practice",
            concept,
            item.id,
            predicted,
            f"Practice on {_title(titles, concept)}: {progress_words(mastery[index], threshold)}, and this "
            f"question is {challenge_words(predicted)}." + _support_sentence(hints, _title(titles, concept)),
            {
                **base_details,
                "items": rows,
                "numbers": _numbers(
                    p_mastered=mastery[index],
                    mastered_at=threshold,
                    predicted_success=predicted,
                    target=target,
                ),
            },
            hints,
        )

    # 4. a new concept on the fringe, first in ramp order
    if fringe_new:
        index = fringe_new[0]
        concept = order[index]
        item, predicted, rows, hints = choose_item(
            graph, learner, concept, recent, target=target, support=MAX_SUPPORT_HINTS
        )
        builds_on = [order[p] for p in prerequisites[index]]
        because = (
            f"you have mastered what it builds on ({', '.join(_title(titles, c) for c in builds_on)})"
            if builds_on
            else "it builds on nothing you haven't got"
        )
        return Decision(
            "new",
            concept,
            item.id,
            predicted,
            f"New: {_title(titles, concept)} is next on the ramp because {because}."
            + _support_sentence(hints, _title(titles, concept)),
            {**base_details, "items": rows, "numbers": _numbers(predicted_success=predicted, target=target)},
            hints,
        )

    # 5. only reviews left (the share limit doesn't apply), or nothing at all
    if due:
        recall, index = due[0]
        concept = order[index]
        item, predicted, rows, _ = choose_item(graph, learner, concept, recent, target=target)
        if item is not None:
            return Decision(
                "review",
                concept,
                item.id,
                predicted,
                f"Review: {_title(titles, concept)} is due for a check, and memories fade: a quick "
                "question now keeps it.",
                {
                    **base_details,
                    "recall": round(recall, 3),
                    "items": rows,
                    "numbers": _numbers(recall_probability=recall, predicted_success=predicted),
                },
            )
    if n_mastered == len(order):
        reason = "Done: every concept of the ramp is mastered and no review is due."
    elif blocked_no_items:
        reason = (
            f"Done for now: {_title(titles, blocked_no_items[0])} has no questions yet, "
            f"so what builds on it can't be reached."
        )
    else:
        reason = "Done for now: nothing is due and nothing new is open."
    return Decision("done", None, None, None, reason, {**base_details, "no_items": blocked_no_items[:10]})
