"""The pool of practice questions the model writes: topped up per concept and difficulty,
verified by the course's own code, served to a learner instead of a random draw (and never
the same one twice), marked as generated in the step."""

import pytest
from django.utils import timezone

from courses.checkers import answer_as_input, check_answer
from courses.models import Item
from learner.models import Step
from models_train.serving import TutorModel
from tests.models_train.conftest import tiny_tutor_checkpoint
from tests.tutor.answers import finish_placement
from tutor.models import GeneratedQuestion
from tutor.practice_pool import pool_question_for, pool_refill
from tutor.study import _create_step, variant_for

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def untrained_tutor(tmp_path_factory):
    return TutorModel(tiny_tutor_checkpoint(tmp_path_factory.mktemp("pool"), ["What is 1/2 + 1/3?"]))


def test_the_pool_is_topped_up_and_every_attempt_kept(published_course, untrained_tutor):
    counts = pool_refill(course=published_course, model=untrained_tutor, per_bucket=2)
    rows = GeneratedQuestion.objects.filter(course=published_course)
    assert counts["written"] == rows.count() >= 2
    assert counts["verified"] == rows.filter(verified=True).count()
    for row in rows.filter(verified=True):
        assert row.item.is_template and row.item_version == row.item.current_version and row.question
    for row in rows.filter(verified=False):
        assert row.reason  # why the model's choice couldn't be used
    # topped up: a second run writes only what each concept and difficulty still lacks
    missing = 0
    for concept_id, difficulty in set(rows.values_list("concept_id", "difficulty")):
        missing += max(
            0, 2 - rows.filter(concept_id=concept_id, difficulty=difficulty, verified=True).count()
        )
    again = pool_refill(course=published_course, model=untrained_tutor, per_bucket=2)
    assert again["written"] == missing
    assert pool_refill(course=published_course, model=None) == {"skipped": "no model version is active"}


def test_a_pool_question_is_served_once_and_marked_generated(learner, published_course):
    enrollment, _ = finish_placement(learner, published_course)
    item = Item.objects.get(concept__course=published_course, slug="add-unlike-template")
    question = GeneratedQuestion.objects.create(
        course=published_course,
        concept=item.concept,
        item=item,
        item_version=item.current_version,
        difficulty="medium",
        params={"a": 1, "b": 2, "c": 1, "d": 3},
        seed=7,
        question="What is 1/2 + 1/3?",
        verified=True,
    )
    # the step placement opened gives way (one open step per learner)
    Step.objects.filter(enrollment=enrollment, answered_at__isnull=True).delete()
    step = _create_step(
        enrollment, kind="practice", item_id=str(item.pk), predicted=0.8, reason="test", details={}
    )
    assert step.details["generated"] == {"question": question.pk, "params": question.params, "seed": 7}
    variant = variant_for(step)
    assert "\\frac{1}{2}" in variant.prompt and "\\frac{1}{3}" in variant.prompt
    assert check_answer(variant.key, "5/6").correct
    assert check_answer(variant.key, answer_as_input(variant.key)[0]).correct
    assert pool_question_for(enrollment=enrollment, item=item) is None  # not twice to one learner
    Step.objects.filter(pk=step.pk).update(answered_at=timezone.now())
    again = _create_step(
        enrollment, kind="practice", item_id=str(item.pk), predicted=0.8, reason="t", details={}
    )
    assert "generated" not in again.details  # an empty pool: a random draw, as before
