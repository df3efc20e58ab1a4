"""Calibration refits item difficulties from a course's own log and reports how well the live
predictions matched the answers."""

import random

import pytest
from django.utils import timezone

from courses.models import Item
from learner.calibration import MIN_RESPONSES, CalibrationSkipped, calibration_run
from learner.models import Calibration, Enrollment, Response, Step

pytestmark = pytest.mark.django_db


def synthetic_log(course, users, answers_per_user: int, seed: int = 0):
    """Practice answers where one item is clearly harder than the others; each step carries
    the prediction a knowledge model that knew this would have made (0.3 / 0.75)."""
    rng = random.Random(seed)
    items = list(Item.objects.filter(concept__course=course).select_related("current_version", "concept"))
    hard = items[0]
    for user in users:
        enrollment = Enrollment.objects.create(user=user, course=course)
        steps = []
        for _ in range(answers_per_user):
            item = rng.choice(items)
            steps.append(
                Step(
                    enrollment=enrollment,
                    kind="practice",
                    concept=item.concept,
                    item=item,
                    item_version=item.current_version,
                    reason="synthetic",
                    predicted_success=0.3 if item.pk == hard.pk else 0.75,
                    answered_at=timezone.now(),  # answered, as every step of a log is
                )
            )
        Step.objects.bulk_create(steps)
        Response.objects.bulk_create(
            Response(
                enrollment=enrollment,
                user=user,
                step=s,
                kind="practice",
                concept=s.concept,
                item=s.item,
                item_version=s.item_version,
                outcome="correct" if ok else "incorrect",
                correct=ok,
                predicted_success=s.predicted_success,
            )
            for s in steps
            for ok in [rng.random() < (0.25 if s.item_id == hard.pk else 0.8)]
        )
    return hard


def test_too_small_a_log_keeps_the_defaults(published_course, make_user):
    synthetic_log(published_course, [make_user("learner")], 20)
    with pytest.raises(CalibrationSkipped):
        calibration_run(course=published_course)
    assert not Calibration.objects.exists()


def test_calibration_fits_the_course_and_its_item_difficulties(published_course, make_user):
    users = [make_user("learner") for _ in range(12)]
    hard = synthetic_log(published_course, users, 40)
    assert Response.objects.count() >= MIN_RESPONSES
    before = published_course.updated_at
    calibration = calibration_run(course=published_course)
    assert calibration.n_responses == Response.objects.count()
    # the predictions that knew which item was hard separate right from wrong answers
    assert calibration.metrics["predicted_answers"] == Response.objects.count()
    assert 0.6 < calibration.metrics["auc"] <= 1.0
    hard.refresh_from_db()
    # the hard item moved up from its author's value, and furthest of its concept's items
    assert hard.difficulty > hard.difficulty_prior + 0.5
    others = Item.objects.filter(concept=hard.concept).exclude(pk=hard.pk)
    assert all(i.difficulty - i.difficulty_prior < hard.difficulty - hard.difficulty_prior for i in others)
    published_course.refresh_from_db()
    assert published_course.updated_at > before  # caches keyed on it are rebuilt
    # the tracker and the policy read the items' difficulties, on the authors' scale
    for concept in published_course.concepts.all():
        items = list(concept.items.filter(retired_at__isnull=True))
        if items:  # each concept keeps its authored mean: only the items' places among them move
            assert sum(i.difficulty for i in items) == pytest.approx(sum(i.difficulty_prior for i in items))
