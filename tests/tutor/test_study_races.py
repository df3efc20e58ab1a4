"""Concurrent first visits and starts: one enrollment, one open step, enforced by the database."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from learner.models import Enrollment, Step
from tutor.study import enrollment_for, study_start

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_starts_leave_one_open_step(make_user, published_course):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL, as `make test` provides)")
    learner = make_user("learner")
    barrier = threading.Barrier(20)
    errors = []

    def start():
        try:
            barrier.wait()
            study_start(user=learner, course=published_course)
        except Exception as error:  # collected: every start must succeed
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Enrollment.objects.filter(user=learner).count() == 1
    assert Step.objects.filter(enrollment__user=learner, answered_at__isnull=True).count() == 1


def test_the_database_refuses_a_second_open_step(make_user, published_course):
    learner = make_user("learner")
    step = study_start(user=learner, course=published_course)
    enrollment = enrollment_for(user=learner, course=published_course)
    with pytest.raises(IntegrityError), transaction.atomic():
        Step.objects.create(
            enrollment=enrollment,
            kind=step.kind,
            concept=step.concept,
            item=step.item,
            item_version=step.item_version,
            reason="a second open step",
        )
