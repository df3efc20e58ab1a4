"""Keeping a learner's knowledge state: the estimator, its per-learner state, and the
ConceptState rows derived from it. Called inside the answer transaction."""

from datetime import datetime
from functools import lru_cache

from django.db.models import F
from django.utils import timezone

from courses.models import Course
from learner.graph_from_db import course_graph_for
from learner.kt.base import Estimator, logit, sigmoid
from learner.kt.graph import apply_graph_evidence
from learner.models import ConceptState, Enrollment, EstimatorFit
from learner.review import recall_probability, review_card_new, review_card_update, review_due_at

# A finished placement's P(mastered) is kept as a log-odds offset on top of the estimator
# (whose own features move only slowly on soft evidence), so a placed learner starts where
# placement put them. Each practice answer on the concept fades the offset, so the
# learner's own answers take over.
PLACEMENT_EVIDENCE = 1.0  # soft pseudo-answers also given to the estimator's features
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


def _state_rows(enrollment: Enrollment, slugs) -> dict[str, ConceptState]:
    ids = dict(enrollment.course.concepts.filter(slug__in=list(slugs)).values_list("slug", "id"))
    existing = {s.concept_id: s for s in ConceptState.objects.filter(enrollment=enrollment, concept_id__in=ids.values())}
    rows = {}
    for slug, concept_id in ids.items():
        rows[slug] = existing.get(concept_id) or ConceptState(enrollment=enrollment, concept_id=concept_id)
    return rows


def refresh_concept_states(
    *, enrollment: Enrollment, estimator: Estimator, slugs, source: str, when: datetime
) -> dict[str, ConceptState]:
    """Recompute the rows of `slugs` from the estimator state and save them."""
    rows = _state_rows(enrollment, slugs)
    t = when.timestamp()
    for slug, row in rows.items():
        estimate = estimator.mastery(enrollment.kt_state, slug, t)
        row.p_mastery = shifted(float(estimate.p_mastered), row.offset_logit)
        row.p_correct = shifted(float(estimate.p_correct), row.offset_logit)
        if estimate.sd == estimate.sd:  # not NaN
            row.sd = float(estimate.sd)
        if row.source != ConceptState.Source.PRACTICE or source == ConceptState.Source.PRACTICE:
            row.source = source
        row.save()
    return rows


def knowledge_record_answer(
    *, enrollment: Enrollment, concept_slug: str, item_id: str, correct: bool, hints: int, when: datetime
) -> dict[str, ConceptState]:
    """Absorb one answer: estimator update, graph evidence, review card, concept rows."""
    course = enrollment.course
    estimator = estimator_for(course)
    graph = course_graph_for(course)
    state = enrollment.kt_state or estimator.new_state()
    enrollment.kt_state = state
    t = when.timestamp()
    estimator.update(state, concept_slug, int(correct), item=item_id, t=t, hints=hints)
    weights = apply_graph_evidence(estimator, state, graph.prerequisites, concept_slug, correct)
    ConceptState.objects.filter(enrollment=enrollment, concept__slug=concept_slug).update(
        offset_logit=F("offset_logit") * OFFSET_FADE
    )
    rows = refresh_concept_states(
        enrollment=enrollment, estimator=estimator, slugs=[concept_slug], source=ConceptState.Source.PRACTICE, when=when
    )
    row = rows[concept_slug]
    row.n_responses += 1
    row.n_correct += int(correct)
    row.last_response_at = when
    row.review_card = review_card_update(row.review_card or review_card_new(), correct=correct, hints=hints, when=when)
    row.review_due_at = review_due_at(row.review_card)
    row.save()
    if weights:
        rows.update(
            refresh_concept_states(
                enrollment=enrollment, estimator=estimator, slugs=list(weights), source=ConceptState.Source.GRAPH, when=when
            )
        )
    return rows


def knowledge_apply_placement(*, enrollment: Enrollment, marginals: dict[str, float], when: datetime) -> None:
    """Write a finished placement's P(mastered) per concept into the estimator state."""
    estimator = estimator_for(enrollment.course)
    state = enrollment.kt_state or estimator.new_state()
    enrollment.kt_state = state
    t = when.timestamp()
    for slug, p in marginals.items():
        estimator.apply_evidence(state, slug, PLACEMENT_EVIDENCE * (2 * p - 1))
    rows = _state_rows(enrollment, marginals)
    for slug, row in rows.items():
        own = float(estimator.mastery(state, slug, t).p_mastered)
        row.offset_logit = max(-MAX_OFFSET, min(MAX_OFFSET, logit(marginals[slug]) - logit(own)))
        row.save()
    refresh_concept_states(
        enrollment=enrollment, estimator=estimator, slugs=list(marginals), source=ConceptState.Source.PLACEMENT, when=when
    )


def recall(row: ConceptState, now: datetime | None = None) -> float:
    if not row.review_card:
        return 1.0
    return recall_probability(row.review_card, now=now or timezone.now())
