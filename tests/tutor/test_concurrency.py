"""Answers arriving at the same moment: none is lost, none is applied twice.

Runs against the real database of the suite (PostgreSQL under `make test`), each thread
with its own connection, started together by a barrier.
"""

import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from courses.models import Course
from courses.ramp_files import read_ramp
from courses.ramp_import import course_import
from courses.services import course_publish
from learner.models import Enrollment, Response
from tutor.study import StepMismatch, _locked_enrollment, answer_submit, enrollment_for, step_next

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURE = Path(__file__).resolve().parents[1] / "courses" / "fixtures" / "good-ramp"


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # collected for the assertions
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def two_courses(owner):
    spec = read_ramp(FIXTURE)
    first = course_import(spec=spec, user=owner).course
    second_spec = type(spec)(
        **{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "slug": "tiny-fractions-2"}
    )
    second = course_import(spec=second_spec, user=owner).course
    for course in (first, second):
        course_publish(course=course)
    return first, second


def test_two_answers_of_one_learner_at_once_both_land(make_user):
    learner = make_user("learner")
    courses = two_courses(make_user("educator"))
    steps = [step_next(enrollment=enrollment_for(user=learner, course=c)) for c in courses]
    results = run_together(
        *[
            lambda c=c, s=s: answer_submit(user=learner, course=c, step_id=s.pk, dont_know=True)
            for c, s in zip(courses, steps)
        ]
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert Response.objects.filter(user=learner).count() == 2
    for course in courses:
        enrollment = Enrollment.objects.get(user=learner, course=course)
        assert enrollment.response_count == 1
        assert len(enrollment.placement["observations"]) == 1


def test_the_same_answer_sent_twice_at_once_lands_once(make_user):
    learner = make_user("learner")
    course, _ = two_courses(make_user("educator"))
    step = step_next(enrollment=enrollment_for(user=learner, course=course))
    results = run_together(
        lambda: answer_submit(user=learner, course=course, step_id=step.pk, dont_know=True),
        lambda: answer_submit(user=learner, course=course, step_id=step.pk, dont_know=True),
    )
    assert sum(isinstance(r, StepMismatch) for r in results) == 1, results
    assert Response.objects.filter(user=learner).count() == 1
    assert Enrollment.objects.get(user=learner, course=course).response_count == 1


def test_one_learners_answer_in_progress_does_not_hold_up_another_learner(make_user, published_course):
    """The answer transaction locks the learner's enrollment, not the course: while one
    learner's answer holds its lock, another learner of the same course locks theirs, and the
    course row stays free (it once was locked by every answer, through the join)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL, as `make test` provides)")
    first, second = make_user("learner"), make_user("learner")
    for learner in (first, second):
        enrollment_for(user=learner, course=published_course)
    holding, release = threading.Event(), threading.Event()

    def hold_first():
        try:
            with transaction.atomic():
                _locked_enrollment(first, published_course)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert holding.wait(30)
        outcome = run_together(
            lambda: _lock_quickly(lambda: _locked_enrollment(second, published_course)),
            lambda: _lock_quickly(
                lambda: Course.objects.select_for_update(nowait=True).get(pk=published_course.pk)
            ),
        )
        assert [type(r).__name__ for r in outcome] == ["Enrollment", "Course"], outcome
    finally:
        release.set()
        holder.join(30)


def _lock_quickly(lock):
    """``lock()`` in a transaction that gives up after a second of waiting for a row lock."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
        return lock()
