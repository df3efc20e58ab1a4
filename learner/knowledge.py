"""Keeping a learner's knowledge state, inside the answer transaction.

One model answers each question the study loop asks about a learner:

- *What does the learner know?* The mastery tracker (:mod:`learner.mastery`): a belief over
  the learner's proficiency per concept, moved by every answer, by evidence from neighbouring
  concepts and by time. The policy reads it to gate progress (P(mastered)) and to choose
  practice (P(true success in the band)); placement's result is its prior.
- *What is due for review?* The concept's FSRS card (:mod:`learner.review`): a memory model
  fitted for one job, scheduling the next retrieval so that recall stays near 90%. The
  tracker's own forgetting makes its belief honest between answers (a concept left for
  months may drop below the mastery gate and be practised again); the card decides when a
  concept still counted as mastered is checked.

``ConceptState`` rows are the readable summary of both, for the knowledge map and educators;
they are derived from the tracker and the card, never the other way round.
"""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from courses.structure import course_structure
from learner.course_graph import CourseGraph
from learner.graph_evidence import propagate_evidence
from learner.graph_from_db import course_graph_for
from learner.mastery import MasteryTracker
from learner.models import ConceptState, Enrollment
from learner.review import recall_probability, review_card_new, review_card_update, review_due_at


def tracker_for(enrollment: Enrollment) -> MasteryTracker:
    """The tracker over the enrollment's stored beliefs (changes land in mastery_state)."""
    if enrollment.mastery_state is None:
        enrollment.mastery_state = {}
    return MasteryTracker(state=enrollment.mastery_state)


_FIELDS = [
    "p_correct",
    "p_mastery",
    "mastered_at",
    "sd",
    "source",
    "n_responses",
    "n_correct",
    "last_response_at",
    "review_card",
    "review_due_at",
    "updated_at",
]


def _state_rows(enrollment: Enrollment, slugs) -> dict[str, ConceptState]:
    """The rows of ``slugs`` (unsaved new ones where there are none yet): one query, however
    many concepts."""
    known = course_structure(enrollment.course).concept_ids
    ids = {slug: known[slug] for slug in slugs if slug in known}
    existing = {
        s.concept_id: s
        for s in ConceptState.objects.filter(enrollment=enrollment, concept_id__in=ids.values())
    }
    return {
        slug: existing.get(cid) or ConceptState(enrollment=enrollment, concept_id=cid)
        for slug, cid in ids.items()
    }


def _recompute(
    enrollment: Enrollment, tracker: MasteryTracker, row: ConceptState, slug: str, source: str, when: datetime
) -> None:
    """The row of ``slug`` from the tracker."""
    t = when.timestamp()
    row.p_correct = tracker.predict(slug, 0.0, t=t)
    row.p_mastery = tracker.mastery(slug, t)
    # The first crossing of the gate is the learner's progress (learner.progress); the
    # belief's history isn't stored anywhere else.
    if row.mastered_at is None and row.p_mastery >= enrollment.course.mastery_threshold:
        row.mastered_at = when
    if slug in enrollment.mastery_state:
        row.sd = tracker.belief(slug, t)[1]
    if row.source != ConceptState.Source.PRACTICE or source == ConceptState.Source.PRACTICE:
        row.source = source


def _save(rows) -> None:
    """Insert the new rows and update the others: two statements, however many rows (the
    answer path's query count stays the same whatever the size of the graph)."""
    now = timezone.now()
    new = [row for row in rows if row.pk is None]
    old = [row for row in rows if row.pk is not None]
    for row in rows:
        row.updated_at = now
    if new:
        ConceptState.objects.bulk_create(new)
    if old:
        # One UPDATE per row sent as one batch (psycopg pipelines executemany). bulk_update
        # would build a CASE expression per field and row through the ORM: ~30 ms of Python
        # per answer for a dozen rows, more than the rest of the answer's queries together.
        meta = ConceptState._meta
        fields = [meta.get_field(name) for name in _FIELDS]
        quote = connection.ops.quote_name
        sql = (
            f"UPDATE {quote(meta.db_table)} SET "
            + ", ".join(f"{quote(f.column)} = %s" for f in fields)
            + f" WHERE {quote(meta.pk.column)} = %s"
        )
        params = [
            [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
            for row in old
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def refresh_concept_states(
    *, enrollment: Enrollment, slugs, source: str, when: datetime
) -> dict[str, ConceptState]:
    """Recompute the rows of ``slugs`` from the tracker, and save them."""
    rows = _state_rows(enrollment, slugs)
    tracker = tracker_for(enrollment)
    for slug, row in rows.items():
        _recompute(enrollment, tracker, row, slug, source, when)
    _save(rows.values())
    return rows


def knowledge_record_answer(
    *, enrollment: Enrollment, concept_slug: str, item_id: str, correct: bool, hints: int, when: datetime
) -> dict[str, ConceptState]:
    """Absorb one practice answer: the tracker, graph evidence, the review card, the rows."""
    graph: CourseGraph = course_graph_for(enrollment.course)
    t = when.timestamp()
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
        tracker.evidence(other, weight, t)
    rows = _state_rows(enrollment, [concept_slug, *weights])
    for slug, row in rows.items():
        source = ConceptState.Source.PRACTICE if slug == concept_slug else ConceptState.Source.GRAPH
        _recompute(enrollment, tracker, row, slug, source, when)
    row = rows[concept_slug]
    row.n_responses += 1
    row.n_correct += int(correct)
    row.last_response_at = when
    row.review_card = review_card_update(
        row.review_card or review_card_new(), correct=correct, hints=hints, when=when
    )
    row.review_due_at = review_due_at(row.review_card)
    _save(rows.values())
    return rows


def knowledge_apply_placement(*, enrollment: Enrollment, marginals: dict[str, float], when: datetime) -> None:
    """A finished placement's P(mastered) per concept becomes the tracker's prior."""
    tracker = tracker_for(enrollment)
    t = when.timestamp()
    for slug, p in marginals.items():
        tracker.set_prior(slug, p, t)
    refresh_concept_states(
        enrollment=enrollment, slugs=list(marginals), source=ConceptState.Source.PLACEMENT, when=when
    )


def recall(row: ConceptState, now: datetime) -> float:
    """FSRS recall probability of the row's concept at ``now`` (1.0 before any answer)."""
    if not row.review_card:
        return 1.0
    return recall_probability(row.review_card, now=now)
