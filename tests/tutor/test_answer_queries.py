"""'Submit answer -> next step' costs the same number of database queries however big the ramp
and however far the learner is: no query per concept, neighbour or past answer on the hot path
(the load benchmark, python -m benchmarks.load, measures its time)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learner.models import Step
from tests.tutor.answers import finish_placement, right_answer, wrong_answer
from tutor.study import current_step

pytestmark = pytest.mark.django_db

# Every right answer (17-18 queries on PostgreSQL): session, user, course, the locked
# enrollment, its step, the response, the step answered, the concept rows read and written (one
# statement each), the enrollment saved; then the next step chosen (the learner's concept rows,
# their recent items, the item, whether it has a practice pool) and created. The course's
# concepts, titles and misconceptions come from a per-process cache (courses.structure). A
# wrong answer also starts the tutor's reply (about 7 more).
MOST = 30


def queries_per_answer(client, course, learner, answers: int) -> dict[str, list[int]]:
    """Queries of each practice answer, right ones and wrong ones (a wrong one also starts the
    tutor's reply)."""
    _, step = finish_placement(learner, course)
    client.force_login(learner)
    counts = {"right": [], "wrong": []}
    for i in range(answers):
        step = current_step(enrollment=step.enrollment)
        if step is None:
            break
        kind = "wrong" if i % 4 == 3 else "right"
        answer = wrong_answer(step) if kind == "wrong" else right_answer(step)
        data = {"step": step.pk, "answer": answer}
        if step.item.type == "ordering":
            data = {"step": step.pk, "order": answer.split("\n")}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse("study_answer", args=[course.slug]), data, headers={"HX-Request": "true"}
            )
        assert response.status_code == 200
        if step.kind in (Step.Kind.PRACTICE, Step.Kind.NEW, Step.Kind.REVIEW):
            counts[kind].append(len(queries))
    return counts


def test_an_answer_costs_the_same_queries_on_a_small_and_a_big_ramp(
    client, make_user, published_course, fractions
):
    small = queries_per_answer(client, published_course, make_user("learner"), 12)
    big = queries_per_answer(client, fractions, make_user("learner"), 24)
    # the fractions ramp has ten times the concepts, and the learner answers twice as often
    for kind in ("right", "wrong"):
        assert small[kind] and big[kind], (small, big)
        assert max(big[kind]) <= MOST, (small, big)
        assert max(big[kind]) <= max(small[kind]) + 2, (kind, small, big)
        later = big[kind][len(big[kind]) // 2 :]
        assert max(later) <= max(big[kind][: len(big[kind]) // 2]) + 2, (kind, big)
