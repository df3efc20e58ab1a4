"""The study loop's actions: the current step, answering it, hints, and what comes next.

`answer_submit` is the hot path and one atomic action: grade with the course's checker,
append to the response log, update the knowledge state, and choose the next step, all in
one transaction that holds the learner's enrollment row, so concurrent answers of one
learner are applied one after the other and none is lost.
"""

import random
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.checkers import CheckResult, check_answer
from courses.models import Concept, Course, Item
from courses.spec_json import item_from_json
from courses.structure import course_structure
from courses.variants import Variant, draw_variant
from learner.course_graph import CourseGraph, ItemInfo
from learner.graph_from_db import course_graph_for
from learner.knowledge import (
    knowledge_apply_placement,
    knowledge_record_answer,
    recall,
    tracker_for,
)
from learner.models import ConceptState, Enrollment, Response, Step
from learner.placement import Placement
from learner.placement_store import placement_store_for
from models_train.factory.structured import variant_of
from tutor.policy import Decision, decide_next
from tutor.practice_pool import pool_question_for

RECENT_ITEMS = 20


class StepMismatch(Exception):
    """An answer for a step that is not the learner's current one: refused, nothing changed."""


class NotEnrolled(Exception):
    """The learner hasn't started this course: nothing to answer, nothing changed."""


@dataclass
class AnswerOutcome:
    check: CheckResult | None  # None for "I don't know"
    response: Response | None  # None when the answer could not be read (nothing recorded)
    variant: Variant
    misconception: object | None  # RenderedMisconception (slug, diagnosis, probe) when matched
    next_step: Step | None


def enrollment_for(*, user, course: Course) -> Enrollment:
    enrollment, _ = Enrollment.objects.get_or_create(user=user, course=course)
    return enrollment


def enrollment_of(*, user, course: Course) -> Enrollment | None:
    """The learner's enrollment in ``course``, if they have started it (read only)."""
    return Enrollment.objects.select_related("course").filter(user=user, course=course).first()


def _locked_enrollment(user, course: Course) -> Enrollment:
    # Locking the enrollment serialises everything one learner does in one course. Only the
    # enrollment: FOR UPDATE on the join would also lock the course row, and every learner's
    # answer in the course would wait for the one before it.
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("course")
        .filter(user=user, course=course)
        .first()
    )
    if enrollment is None:
        raise NotEnrolled("You haven't started this course yet.")
    return enrollment


@transaction.atomic
def study_start(*, user, course: Course) -> Step | None:
    """Start the course (an explicit action, never a page view): the enrollment and its first
    step, placement's first question. Starting again only returns the open step."""
    Enrollment.objects.get_or_create(user=user, course=course)
    return step_next(enrollment=_locked_enrollment(user, course))


@transaction.atomic
def study_continue(*, user, course: Course) -> Step | None:
    """The open step, or the next one the policy chooses (e.g. a review that has come due since
    the ramp was done); None when there is nothing to do now."""
    return step_next(enrollment=_locked_enrollment(user, course))


def variant_for(step: Step) -> Variant:
    """The question the step serves: a seeded draw of its item, or the values the tutor model
    chose for it (a question from the practice pool, recorded in the step's details).

    Kept per process: a step is drawn to show it and again to grade the answer, and drawing
    some templates takes milliseconds (the item version is immutable, the concept's
    misconceptions are keyed by the course's version)."""
    course = step.concept.course
    generated = (step.details or {}).get("generated")
    key = (
        step.item_version_id,
        step.variant_seed,
        repr(sorted(generated["params"].items())) if generated else None,
        generated["seed"] if generated else None,
        course.pk,
        course.updated_at,
    )
    with _VARIANTS_LOCK:
        hit = _VARIANTS.get(key)
    if hit is not None:
        return hit
    spec = item_from_json(step.item_version.spec)
    concept_misconceptions = course_structure(course).concept_misconceptions(step.concept_id)
    if generated:
        variant = variant_of(spec, generated["params"], concept_misconceptions, seed=generated["seed"])
    else:
        variant = draw_variant(spec, step.variant_seed, concept_misconceptions=concept_misconceptions)
    with _VARIANTS_LOCK:
        _VARIANTS[key] = variant
        while len(_VARIANTS) > _VARIANTS_SIZE:
            _VARIANTS.popitem(last=False)
    return variant


_VARIANTS: OrderedDict[tuple, Variant] = OrderedDict()
_VARIANTS_SIZE = 2048
_VARIANTS_LOCK = threading.Lock()


def current_step(*, enrollment: Enrollment) -> Step | None:
    return (
        enrollment.steps.filter(answered_at__isnull=True)
        .select_related("concept__course", "item", "item_version")
        .order_by("-id")
        .first()
    )


class _DbLearnerView:
    """The policy's view of one learner, read from the database once per decision."""

    def __init__(self, enrollment: Enrollment, graph: CourseGraph, now: datetime):
        self.enrollment = enrollment
        self.graph = graph
        self.tracker = tracker_for(enrollment)
        self.t = now.timestamp()
        self.now = now
        slugs = course_structure(enrollment.course).concept_slugs
        # a concept the cached structure doesn't know isn't in the cached graph either
        self.rows = {
            slugs[r.concept_id]: r
            for r in ConceptState.objects.filter(enrollment=enrollment)
            if r.concept_id in slugs
        }
        self._recent = [
            str(i) for i in enrollment.steps.order_by("-id").values_list("item_id", flat=True)[:RECENT_ITEMS]
        ][::-1]

    def mastery(self, concept: str) -> float:
        # Fresh from the tracker (O(1)), so forgetting since the last answer counts.
        return self.tracker.mastery(concept, self.t)

    def predict(self, item: ItemInfo, hints: int = 0) -> float:
        return self.tracker.predict(
            item.concept, self.graph.relative_difficulty(item), item.guess_rate, self.t, hints=hints
        )

    def in_band(self, item: ItemInfo, hints: int, band: tuple[float, float]) -> float:
        """P(the learner's true success lies in ``band``) under the tracker's belief: what the
        policy chooses practice by (see ``tutor.policy``)."""
        return self.tracker.in_band(
            item.concept, self.graph.relative_difficulty(item), band, item.guess_rate, self.t, hints=hints
        )

    def review_due(self, concept: str) -> bool:
        row = self.rows.get(concept)
        return bool(row and row.review_due_at and row.review_due_at <= self.now)

    def recall_probability(self, concept: str) -> float:
        row = self.rows.get(concept)
        return recall(row, self.now) if row else 1.0

    def recent_items(self):
        return self._recent

    def attempts(self, concept: str) -> int:
        """Practice answers on the concept (placement answers don't make it "started")."""
        row = self.rows.get(concept)
        return row.n_responses if row else 0

    def days_since(self, concept: str) -> float | None:
        row = self.rows.get(concept)
        if row is None or row.last_response_at is None:
            return None
        return (self.now - row.last_response_at).total_seconds() / 86400

    def pending_probe(self):
        probe = self.enrollment.pending_probe
        return (probe["concept"], probe["misconception"]) if probe else None


def _seed_for(enrollment: Enrollment, item: Item) -> int:
    """The variant to serve: fresh numbers each time a template is served, a fresh order of
    the choices each time a fixed multiple-choice or ordering item is (reproducible from the
    log); other fixed items have only one variant."""
    if not item.is_template and item.type not in ("multiple_choice", "ordering"):
        return 0
    return random.Random(f"{enrollment.pk}:{enrollment.response_count}:{item.pk}").randrange(1, 2**31)


def _create_step(
    enrollment: Enrollment,
    *,
    kind: str,
    item_id: str,
    predicted: float | None,
    reason: str,
    details: dict,
    hints: int = 0,
) -> Step:
    """A new open step; ``hints``: the item's first hints shown from the start (scaffolding)."""
    item = Item.objects.select_related("current_version", "concept__course").get(pk=int(item_id))
    if item.is_template and kind in (Step.Kind.NEW, Step.Kind.PRACTICE, Step.Kind.REVIEW):
        question = pool_question_for(enrollment=enrollment, item=item)
        if question is not None:
            details = {
                **details,
                "generated": {"question": question.pk, "params": question.params, "seed": question.seed},
            }
    return Step.objects.create(
        enrollment=enrollment,
        kind=kind,
        concept=item.concept,
        item=item,
        item_version=item.current_version,
        variant_seed=_seed_for(enrollment, item),
        predicted_success=predicted,
        reason=reason,
        details=details,
        hints_shown=hints,
        hints_up_front=hints,
    )


def _placement_step(enrollment: Enrollment, graph: CourseGraph, when: datetime) -> Step | None:
    placement = Placement.from_dict(graph, enrollment.placement, store=placement_store_for(enrollment.course))
    question = placement.next_question()
    if question is None:
        knowledge_apply_placement(enrollment=enrollment, marginals=placement.marginals(), when=when)
        enrollment.placement = None
        enrollment.placement_finished_at = when
        enrollment.save(update_fields=["placement", "placement_finished_at", "mastery_state", "updated_at"])
        return None
    concept, item_id = question
    asked = placement.n_asked
    title = graph_titles(enrollment.course).get(concept, concept)
    return _create_step(
        enrollment,
        kind=Step.Kind.PLACEMENT,
        item_id=item_id,
        predicted=None,
        reason=f"Placement question {asked + 1}: it tells most about what you already know, "
        f"here about “{title}”.",
        details={"marginals": {k: round(v, 3) for k, v in placement.marginals().items()}},
    )


def graph_titles(course: Course) -> dict[str, str]:
    return course_structure(course).titles


def step_next(*, enrollment: Enrollment, when: datetime | None = None) -> Step | None:
    """The open step, or a new one chosen by placement or the policy; None when the ramp is done."""
    when = when or timezone.now()
    open_step = current_step(enrollment=enrollment)
    if open_step is not None:
        return open_step
    return _step_new(enrollment, when)


def _step_new(enrollment: Enrollment, when: datetime) -> Step | None:
    """A new step, when none is open."""
    graph = course_graph_for(enrollment.course)
    if not graph.concepts:
        return None
    if (
        enrollment.placement_finished_at is None
        and enrollment.placement is None
        and enrollment.response_count == 0
    ):
        enrollment.placement = Placement(graph, seed=enrollment.pk).to_dict(
            store=placement_store_for(enrollment.course)
        )
        enrollment.save(update_fields=["placement", "updated_at"])
    if enrollment.placement is not None:
        step = _placement_step(enrollment, graph, when)
        if step is not None:
            return step
    decision: Decision = decide_next(
        graph=graph, learner=_DbLearnerView(enrollment, graph, when), titles=graph_titles(enrollment.course)
    )
    if decision.kind == "done" or decision.item_id is None:
        return None
    return _create_step(
        enrollment,
        kind=decision.kind,
        item_id=decision.item_id,
        predicted=decision.predicted_success,
        reason=decision.reason,
        details=decision.details,
        hints=decision.hints,
    )


@transaction.atomic
def answer_submit(
    *,
    user,
    course: Course,
    step_id: int,
    answer: str = "",
    dont_know: bool = False,
    time_taken_ms: int | None = None,
) -> AnswerOutcome:
    enrollment = _locked_enrollment(user, course)
    step = current_step(enrollment=enrollment)
    if step is None or step.pk != step_id:
        raise StepMismatch("That question is no longer the current one: nothing was recorded.")
    variant = variant_for(step)
    now = timezone.now()
    if dont_know:
        check, outcome, correct = None, Response.Outcome.DONT_KNOW, False
    else:
        check = check_answer(variant.key, _response_input(step, answer))
        if not check.readable:
            return AnswerOutcome(check, None, variant, None, step)
        outcome = Response.Outcome.CORRECT if check.correct else Response.Outcome.INCORRECT
        correct = check.correct
    misconception_slug = (check.misconception if check else None) or ""
    response = Response.objects.create(
        enrollment=enrollment,
        user=user,
        step=step,
        kind=step.kind,
        concept=step.concept,
        item=step.item,
        item_version=step.item_version,
        variant_seed=step.variant_seed,
        answer=answer[:2000],
        normalised=(check.normalised if check else "")[:2000],
        outcome=outcome,
        correct=correct,
        misconception=misconception_slug,
        hints_used=step.hints_shown,
        hints_up_front=step.hints_up_front,
        time_taken_ms=time_taken_ms,
        predicted_success=step.predicted_success,
    )
    step.answered_at = now
    step.save(update_fields=["answered_at"])
    enrollment.response_count += 1
    if step.kind == Step.Kind.PLACEMENT and enrollment.placement is not None:
        graph = course_graph_for(course)
        store = placement_store_for(course)
        placement = Placement.from_dict(graph, enrollment.placement, store=store)
        placement.observe(step.concept.slug, str(step.item_id), outcome)
        enrollment.placement = placement.to_dict(store=store)
        if misconception_slug:
            # probed once placement is over: a placement answer can reveal a mix-up too
            enrollment.pending_probe = {"concept": step.concept.slug, "misconception": misconception_slug}
    else:
        knowledge_record_answer(
            enrollment=enrollment,
            concept_slug=step.concept.slug,
            item_id=str(step.item_id),
            correct=correct,
            hints=step.hints_shown,
            when=now,
        )
        if misconception_slug and step.kind != Step.Kind.PROBE:
            enrollment.pending_probe = {"concept": step.concept.slug, "misconception": misconception_slug}
        elif step.kind == Step.Kind.PROBE:
            enrollment.pending_probe = None
    enrollment.save()
    matched = next((m for m in variant.misconceptions if m.slug == misconception_slug), None)
    # The step just answered was the open one (one per enrollment, and the enrollment is locked).
    next_step = _step_new(enrollment, now)
    return AnswerOutcome(check, response, variant, matched, next_step)


def _response_input(step: Step, answer: str):
    if step.item.type == "ordering":
        return [line.strip() for line in answer.splitlines() if line.strip()]
    return answer


@transaction.atomic
def hint_reveal(*, user, course: Course, step_id: int) -> Step:
    enrollment = _locked_enrollment(user, course)
    step = current_step(enrollment=enrollment)
    if step is None or step.pk != step_id:
        raise StepMismatch("That question is no longer the current one.")
    hints = variant_for(step).hints
    if step.hints_shown >= len(hints):
        raise StepMismatch("That question has no more hints: try the worked solution after your answer.")
    step.hints_shown += 1
    step.save(update_fields=["hints_shown"])
    return step


@transaction.atomic
def placement_start_for_concept(*, user, course: Course, concept: Concept) -> Enrollment:
    """ "I already know this": a short probe of the concept and what it builds on."""
    enrollment = _locked_enrollment(user, course)
    graph = course_graph_for(course)
    scope = {concept.slug} | set(graph.ancestors(concept.slug))
    enrollment.placement = Placement(graph, seed=enrollment.response_count + 1, concepts=scope).to_dict(
        store=placement_store_for(course)
    )
    enrollment.save(update_fields=["placement", "updated_at"])
    # The open practice step gives way to the probe, which starts at once.
    Step.objects.filter(enrollment=enrollment, answered_at__isnull=True).delete()
    step_next(enrollment=enrollment)
    return enrollment


SUMMARY_LISTED = 6


def _in_words(titles: list[str]) -> str:
    """'A, B and C'; a long list names its first few and counts the rest, in ramp order (the
    whole list is on the knowledge map)."""
    if len(titles) > SUMMARY_LISTED:
        rest = len(titles) - SUMMARY_LISTED + 1
        return ", ".join(titles[: SUMMARY_LISTED - 1]) + f" and {rest} more (all on your knowledge map)"
    return " and ".join([", ".join(titles[:-1]), titles[-1]]) if len(titles) > 1 else "".join(titles)


def placement_summary(*, enrollment: Enrollment) -> dict:
    """What placement found, in words, from the answers the learner gave it: the questions and
    how they went; the concepts it counts as known (answered right, or built on by one that
    was) and to learn; where study starts. Empty before a placement has ended. Each list of
    titles also comes as a phrase (``known_words``, …) that names a long list's first few."""
    if enrollment.placement_finished_at is None:
        return {}
    course = enrollment.course
    answers = list(
        Response.objects.filter(enrollment=enrollment, kind=Step.Kind.PLACEMENT)
        .select_related("concept")
        .order_by("id")
    )
    asked = {r.concept_id for r in answers}
    states = (
        ConceptState.objects.filter(enrollment=enrollment)
        .select_related("concept")
        .order_by("concept__position", "concept__id")
    )
    known, inferred, learning, unsure = [], [], [], []
    for state in states:
        if state.p_mastery >= course.mastery_threshold:
            (known if state.concept_id in asked else inferred).append(state.concept.title)
        elif state.p_mastery < 0.5:
            learning.append(state.concept.title)
        else:
            unsure.append(state.concept.title)
    start = current_step(enrollment=enrollment)
    return {
        "answers": [(r.concept.title, r.outcome) for r in answers],
        "right": sum(r.correct for r in answers),
        "known": known,
        "inferred": inferred,
        "learning": learning,
        "unsure": unsure,
        **{
            f"{name}_words": _in_words(titles)
            for name, titles in (
                ("known", known),
                ("inferred", inferred),
                ("learning", learning),
                ("unsure", unsure),
            )
        },
        "start": start.concept.title if start else None,
    }
