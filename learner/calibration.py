"""Refitting the estimator and item difficulties from a course's response log.

Runs as a Celery task on a schedule and when an educator asks. It is atomic: the new
EstimatorFit and the new item difficulties appear together, or nothing changes.

The estimator (RampKT) keeps its own item offsets in its parameters. The items'
``difficulty`` - what the mastery tracker and the policy read - is calibrated separately, on
the authors' scale, by :mod:`learner.item_calibration` (until 2026-12-05 RampKT's shrunk
offsets were written there; see that module for what it cost).
"""

import dataclasses
import random

from django.db import transaction

from courses.models import Course, Item
from courses.services import course_touch
from learner.graph_from_db import course_graph_for
from learner.item_calibration import calibrate_item_difficulties
from learner.kt.metrics import all_metrics
from learner.kt.ramp import RampKT
from learner.kt.responses_csv import Response as LogResponse
from learner.models import EstimatorFit, Response

MIN_RESPONSES = 200  # below this a course keeps the default parameters
HELD_OUT = 0.2


class CalibrationSkipped(Exception):
    pass


def course_sequences(*, course: Course) -> dict[str, list[LogResponse]]:
    """The course's log as per-learner sequences in time order (placement answers excluded:
    the estimator learns from practice)."""
    sequences: dict[str, list[LogResponse]] = {}
    rows = (
        Response.objects.filter(enrollment__course=course)
        .exclude(kind="placement")
        .order_by("enrollment_id", "id")
        .values_list("enrollment_id", "concept__slug", "correct", "created_at", "item_id", "hints_used")
    )
    for enrollment_id, concept, correct, created_at, item_id, hints in rows.iterator(chunk_size=5000):
        sequences.setdefault(str(enrollment_id), []).append(
            LogResponse(str(enrollment_id), concept, int(correct), created_at.timestamp(), str(item_id), hints)
        )
    return sequences


def _held_out_metrics(sequences: dict[str, list[LogResponse]], seed: int) -> dict:
    learners = sorted(sequences)
    random.Random(seed).shuffle(learners)
    cut = max(1, int(len(learners) * HELD_OUT))
    test, train = learners[:cut], learners[cut:]
    if not train:
        return {}
    model = RampKT().fit([sequences[k] for k in train])
    ys, ps = [], []
    for key in test:
        state = model.new_state()
        for response in sequences[key]:
            ps.append(model.observe(state, response))
            ys.append(response.correct)
    return {"held_out_learners": len(test), **all_metrics(ys, ps)} if len(set(ys)) > 1 else {}


def item_difficulties_from_log(*, course: Course, sequences: dict[str, list[LogResponse]]) -> dict[str, float]:
    """Calibrated difficulties (item id -> logits) of the course's live items, each starting
    from its author's prior ``Item.difficulty_prior``."""
    priors = dict(Item.objects.filter(concept__course=course).values_list("pk", "difficulty_prior"))
    graph = course_graph_for(course)
    items = {it.id: dataclasses.replace(it, difficulty=priors[int(it.id)])
             for its in graph.items.values() for it in its}
    return calibrate_item_difficulties(sequences=sequences.values(), items=items)


def calibration_run(*, course: Course, seed: int = 0) -> EstimatorFit:
    sequences = course_sequences(course=course)
    total = sum(len(s) for s in sequences.values())
    if total < MIN_RESPONSES:
        raise CalibrationSkipped(f"{course.slug} has {total} practice answers; calibration needs {MIN_RESPONSES}.")
    metrics = _held_out_metrics(sequences, seed)
    model = RampKT().fit(list(sequences.values()))
    difficulties = item_difficulties_from_log(course=course, sequences=sequences)
    with transaction.atomic():
        fit = EstimatorFit.objects.create(course=course, params=model.to_dict(), n_responses=total, metrics=metrics)
        items = Item.objects.filter(concept__course=course, pk__in=[int(k) for k in difficulties])
        for item in items:
            item.difficulty = difficulties[str(item.pk)]
        Item.objects.bulk_update(items, ["difficulty"])
        course_touch(course)
    return fit
