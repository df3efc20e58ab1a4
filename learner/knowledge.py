"""Keeping a learner's knowledge state, inside the answer transaction.

Two models, each used for what it measures well (see docs/knowledge-model.md and
docs/placement-and-policy.md):
- the *estimator* (RampKT, learner.kt) predicts the next answer: it chooses practice at the
  target success probability;
- the *mastery tracker* (learner.mastery) keeps a belief over the learner's proficiency per
  concept and says when a concept is mastered: it gates progress and takes placement's
  result as its prior.
ConceptState rows are the readable summary of both, for the knowledge map and educators.
"""

from datetime import datetime
from functools import lru_cache

from django.db.models import F
from django.utils import timezone

from courses.models import Course
from learner.course_graph import CourseGraph
from learner.graph_from_db import course_graph_for
from learner.kt.base import Estimator, logit, sigmoid
from learner.kt.graph import propagate_evidence
from learner.mastery import MasteryTracker
from learner.models import ConceptState, Enrollment, EstimatorFit
from learner.review import recall_probability, review_card_new, review_card_update, review_due_at

# A finished placement's P(mastered) also shifts the estimator's log-odds for the concept,
# so predicted success (and so item choice) starts where placement put the learner. Each
# practice answer on the concept fades the shift, so the learner's own answers take over.
OFFSET_FADE = 0.7
MAX_OFFSET = 6.0


def shifted(p: float, offset: float) -> float:
    return sigmoid(logit(p) + offset) if offset else p


def estimator_for(course: Course) -> Estimator:
    fit = EstimatorFit.objects.filter(course=course).values_list("id", flat=True).first()
    return _estimator(fit)


@lru_cache(maxsize=32)
def _estimator(fit_id: int | None) -> Estimator:
    from learner.estimator_params import default_estimator, estimator_from_params

    if fit_id is None:
        return default_estimator()
    return estimator_from_params(EstimatorFit.objects.get(pk=fit_id).params)


def tracker_for(enrollment: Enrollment) -> MasteryTracker:
    """The tracker over the enrollment's stored beliefs (changes land in mastery_state)."""
    if enrollment.mastery_state is None:
        enrollment.mastery_state = {}
    return MasteryTracker(state=enrollment.mastery_state)


def _state_rows(enrollment: Enrollment, slugs) -> dict[str, ConceptState]:
    ids = dict(enrollment.course.concepts.filter(slug__in=list(slugs)).values_list("slug", "id"))
    existing = {s.concept_id: s for s in ConceptState.objects.filter(enrollment=enrollment, concept_id__in=ids.values())}
    return {slug: existing.get(cid) or ConceptState(enrollment=enrollment, concept_id=cid) for slug, cid in ids.items()}


def refresh_concept_states(*, enrollment: Enrollment, slugs, source: str, when: datetime) -> dict[str, ConceptState]:
    """Recompute the rows of `slugs` from the tracker and the estimator, and save them."""
    estimator = estimator_for(enrollment.course)
    tracker = tracker_for(enrollment)
    state = enrollment.kt_state or estimator.new_state()
    t = when.timestamp()
    rows = _state_rows(enrollment, slugs)
    for slug, row in rows.items():
        estimate = estimator.mastery(state, slug, t)
        row.p_correct = shifted(float(estimate.p_correct), row.offset_logit)
        row.p_mastery = tracker.mastery(slug, t)
        if slug in enrollment.mastery_state:
            row.sd = tracker.belief(slug, t)[1]
        if row.source != ConceptState.Source.PRACTICE or source == ConceptState.Source.PRACTICE:
            row.source = source
        row.save()
    return rows


def knowledge_record_answer(
    *, enrollment: Enrollment, concept_slug: str, item_id: str, correct: bool, hints: int, when: datetime
) -> dict[str, ConceptState]:
    """Absorb one practice answer: estimator, tracker, graph evidence, review card, rows."""
    course = enrollment.course
    estimator = estimator_for(course)
    graph: CourseGraph = course_graph_for(course)
    state = enrollment.kt_state or estimator.new_state()
    enrollment.kt_state = state
    t = when.timestamp()
    estimator.update(state, concept_slug, int(correct), item=item_id, t=t, hints=hints)
    item = graph.item_by_id.get(item_id)
    tracker = tracker_for(enrollment)
    tracker.update(
        concept_slug,
        correct,
        difficulty=graph.relative_difficulty(item) if item else 0.0,
        guess=item.guess_rate if item else 0.0,
        t=t,
        hints=hints,
    )
    # Evidence for the neighbours: a success counts for what the concept builds on, a
    # failure against what builds on it.
    weights = propagate_evidence(graph.prerequisites, concept_slug, correct)
    for other, weight in weights.items():
        estimator.apply_evidence(state, other, weight)
        tracker.evidence(other, weight, t)
    ConceptState.objects.filter(enrollment=enrollment, concept__slug=concept_slug).update(
        offset_logit=F("offset_logit") * OFFSET_FADE
    )
    rows = refresh_concept_states(enrollment=enrollment, slugs=[concept_slug], source=ConceptState.Source.PRACTICE, when=when)
    row = rows[concept_slug]
    row.n_responses += 1
    row.n_correct += int(correct)
    row.last_response_at = when
    row.review_card = review_card_update(row.review_card or review_card_new(), correct=correct, hints=hints, when=when)
    row.review_due_at = review_due_at(row.review_card)
    row.save()
    if weights:
        rows.update(refresh_concept_states(enrollment=enrollment, slugs=list(weights), source=ConceptState.Source.GRAPH, when=when))
    return rows


def knowledge_apply_placement(*, enrollment: Enrollment, marginals: dict[str, float], when: datetime) -> None:
    """A finished placement's P(mastered) per concept becomes the tracker's prior."""
    estimator = estimator_for(enrollment.course)
    state = enrollment.kt_state or estimator.new_state()
    enrollment.kt_state = state
    tracker = tracker_for(enrollment)
    t = when.timestamp()
    rows = _state_rows(enrollment, marginals)
    for slug, p in marginals.items():
        tracker.set_prior(slug, p, t)
        own = float(estimator.mastery(state, slug, t).p_correct)
        target = 0.5 + 0.45 * p  # what placement suggests about success on a typical item
        rows[slug].offset_logit = max(-MAX_OFFSET, min(MAX_OFFSET, logit(target) - logit(own)))
        rows[slug].save()
    refresh_concept_states(enrollment=enrollment, slugs=list(marginals), source=ConceptState.Source.PLACEMENT, when=when)


def recall(row: ConceptState, now: datetime | None = None) -> float:
    if not row.review_card:
        return 1.0
    return recall_probability(row.review_card, now=now or timezone.now())
