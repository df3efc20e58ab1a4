"""Calibrating a course from its own response log.

Runs as a Celery task on a schedule and when an educator asks. It refits the difficulty of
every live item on the authors' scale (:mod:`learner.item_calibration`; the mastery tracker
and the policy read ``Item.difficulty``), and measures how well the knowledge model's live
predictions (each practice step's ``predicted_success``, written when the policy chose it)
matched the answers that followed. It is atomic: the new difficulties and the
:class:`~learner.models.Calibration` row that reports them appear together, or nothing changes.
"""

import dataclasses

from django.db import transaction

from courses.models import Course, Item
from courses.services import course_touch
from learner.graph_from_db import course_graph_for
from learner.item_calibration import calibrate_item_difficulties
from learner.metrics import all_metrics
from learner.models import Calibration, Response
from learner.response_log import Response as LogResponse

MIN_RESPONSES = 200  # below this a course keeps its authors' difficulties


class CalibrationSkipped(Exception):
    pass


def course_sequences(*, course: Course) -> dict[str, list[LogResponse]]:
    """The course's practice answers as per-learner sequences in time order (placement
    answers are left out: they are chosen to split what a learner knows, not to practise)."""
    sequences: dict[str, list[LogResponse]] = {}
    rows = (
        Response.objects.filter(enrollment__course=course)
        .exclude(kind="placement")
        .order_by("enrollment_id", "id")
        .values_list("enrollment_id", "concept__slug", "correct", "created_at", "item_id", "hints_used")
    )
    for enrollment_id, concept, correct, created_at, item_id, hints in rows.iterator(chunk_size=5000):
        sequences.setdefault(str(enrollment_id), []).append(
            LogResponse(
                str(enrollment_id), concept, int(correct), created_at.timestamp(), str(item_id), hints
            )
        )
    return sequences


def prediction_metrics(*, course: Course) -> dict:
    """How well the predictions the policy made matched the answers that followed: AUC, RMSE,
    log loss and accuracy over the course's answers that carry a prediction (empty while
    the log has only one outcome)."""
    pairs = list(
        Response.objects.filter(enrollment__course=course, predicted_success__isnull=False).values_list(
            "correct", "predicted_success"
        )
    )
    outcomes = [int(correct) for correct, _ in pairs]
    if len(set(outcomes)) < 2:
        return {}
    return {"predicted_answers": len(pairs), **all_metrics(outcomes, [p for _, p in pairs])}


def item_difficulties_from_log(
    *, course: Course, sequences: dict[str, list[LogResponse]]
) -> dict[str, float]:
    """Calibrated difficulties (item id -> logits) of the course's live items, each starting
    from its author's prior ``Item.difficulty_prior``."""
    priors = dict(Item.objects.filter(concept__course=course).values_list("pk", "difficulty_prior"))
    graph = course_graph_for(course)
    items = {
        it.id: dataclasses.replace(it, difficulty=priors[int(it.id)])
        for its in graph.items.values()
        for it in its
    }
    return calibrate_item_difficulties(sequences=sequences.values(), items=items)


def calibration_run(*, course: Course) -> Calibration:
    sequences = course_sequences(course=course)
    total = sum(len(s) for s in sequences.values())
    if total < MIN_RESPONSES:
        raise CalibrationSkipped(
            f"{course.slug} has {total} practice answers; calibration needs {MIN_RESPONSES}."
        )
    difficulties = item_difficulties_from_log(course=course, sequences=sequences)
    with transaction.atomic():
        calibration = Calibration.objects.create(
            course=course, n_responses=total, metrics=prediction_metrics(course=course)
        )
        items = Item.objects.filter(concept__course=course, pk__in=[int(k) for k in difficulties])
        for item in items:
            item.difficulty = difficulties[str(item.pk)]
        Item.objects.bulk_update(items, ["difficulty"])
        course_touch(course)
    return calibration
