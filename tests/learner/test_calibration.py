"""Calibration refits the estimator and item difficulties from a course's own log."""

import random

import pytest

from courses.models import Item
from learner.calibration import MIN_RESPONSES, CalibrationSkipped, calibration_run
from learner.knowledge import estimator_for
from learner.models import Enrollment, EstimatorFit, Response, Step

pytestmark = pytest.mark.django_db


def synthetic_log(course, users, answers_per_user: int, seed: int = 0):
    """Practice answers where one item is clearly harder than the others."""
    rng = random.Random(seed)
    items = list(Item.objects.filter(concept__course=course).select_related("current_version", "concept"))
    hard = items[0]
    for user in users:
        enrollment = Enrollment.objects.create(user=user, course=course)
        steps = []
        for _ in range(answers_per_user):
            item = rng.choice(items)
            steps.append(Step(enrollment=enrollment, kind="practice", concept=item.concept, item=item,
                              item_version=item.current_version, reason="synthetic"))
        Step.objects.bulk_create(steps)
        Response.objects.bulk_create(
            Response(enrollment=enrollment, user=user, step=s, kind="practice", concept=s.concept, item=s.item,
                     item_version=s.item_version, outcome="correct" if ok else "incorrect", correct=ok)
            for s in steps
            for ok in [rng.random() < (0.25 if s.item_id == hard.pk else 0.8)]
        )
    return hard


def test_too_small_a_log_keeps_the_defaults(published_course, make_user):
    synthetic_log(published_course, [make_user("learner")], 20)
    with pytest.raises(CalibrationSkipped):
        calibration_run(course=published_course)
    assert not EstimatorFit.objects.exists()


def test_calibration_fits_the_course_and_its_item_difficulties(published_course, make_user):
    users = [make_user("learner") for _ in range(12)]
    hard = synthetic_log(published_course, users, 40)
    assert Response.objects.count() >= MIN_RESPONSES
    before = published_course.updated_at
    fit = calibration_run(course=published_course)
    assert fit.n_responses == Response.objects.count()
    assert 0.5 < fit.metrics["auc"] <= 1.0
    hard.refresh_from_db()
    # the hard item moved up from its author's value, and furthest of its concept's items
    assert hard.difficulty > hard.difficulty_prior + 0.5
    others = Item.objects.filter(concept=hard.concept).exclude(pk=hard.pk)
    assert all(i.difficulty - i.difficulty_prior < hard.difficulty - hard.difficulty_prior for i in others)
    published_course.refresh_from_db()
    assert published_course.updated_at > before  # caches keyed on it are rebuilt
    # The study loop now uses the fitted parameters: the estimator its own item offsets, the
    # tracker and the policy the items' difficulties, on the authors' scale.
    offsets = estimator_for(published_course).item_difficulty
    assert offsets[str(hard.pk)] == max(offsets.values())
    for concept in published_course.concepts.all():
        items = list(concept.items.filter(retired_at__isnull=True))
        if items:  # each concept keeps its authored mean: only the items' places among them move
            assert sum(i.difficulty for i in items) == pytest.approx(sum(i.difficulty_prior for i in items))
