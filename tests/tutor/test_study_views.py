"""The study pages: a question with its reason, answers through htmx, refusals, and nothing of
another learner's reachable."""

import pytest
from django.urls import reverse

from learner.models import Response, Step
from tests.tutor.answers import right_answer
from tutor.study import current_step, enrollment_for, step_next

pytestmark = pytest.mark.django_db


def test_study_page_shows_a_question_with_its_reason(client, learner, published_course):
    client.force_login(learner)
    html = client.get(reverse("study", args=[published_course.slug])).content.decode()
    assert "Why this question?" in html and "Placement question 1" in html
    assert 'name="step"' in html


def test_answer_through_htmx_returns_the_exchange_fragment(client, learner, published_course):
    client.force_login(learner)
    client.get(reverse("study", args=[published_course.slug]))
    enrollment = enrollment_for(user=learner, course=published_course)
    step = current_step(enrollment=enrollment)
    response = client.post(
        reverse("study_answer", args=[published_course.slug]),
        {"step": step.pk, "answer": right_answer(step), "time_taken_ms": "4200"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="exchange"')
    saved = Response.objects.get()
    assert saved.correct and saved.time_taken_ms == 4200


def test_stale_step_is_refused_with_409(client, learner, published_course):
    client.force_login(learner)
    client.get(reverse("study", args=[published_course.slug]))
    response = client.post(
        reverse("study_answer", args=[published_course.slug]),
        {"step": 999999, "answer": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert Response.objects.count() == 0


def test_unpublished_course_is_404_for_learners(client, learner, published_course):
    published_course.status = "draft"
    published_course.save()
    client.force_login(learner)
    assert client.get(reverse("study", args=[published_course.slug])).status_code == 404


def test_another_learner_cannot_answer_or_see_a_step(client, make_user, published_course):
    alice, bob = make_user("learner"), make_user("learner")
    step = step_next(enrollment=enrollment_for(user=alice, course=published_course))
    client.force_login(bob)
    client.get(reverse("study", args=[published_course.slug]))
    response = client.post(
        reverse("study_answer", args=[published_course.slug]), {"step": step.pk, "answer": "1"}
    )
    assert response.status_code in (302, 409)
    assert not Response.objects.filter(step=step).exists()
    response = client.post(reverse("study_solution", args=[published_course.slug]), {"step": step.pk})
    assert response.status_code == 404
    response = client.post(reverse("study_hint", args=[published_course.slug]), {"step": step.pk})
    assert response.status_code == 409
    assert Step.objects.get(pk=step.pk).hints_shown == 0


def test_solution_only_after_an_answer(client, learner, published_course):
    client.force_login(learner)
    client.get(reverse("study", args=[published_course.slug]))
    step = current_step(enrollment=enrollment_for(user=learner, course=published_course))
    response = client.post(reverse("study_solution", args=[published_course.slug]), {"step": step.pk})
    assert response.status_code == 409


def test_already_know_starts_a_short_probe(client, learner, published_course):
    client.force_login(learner)
    client.get(reverse("study", args=[published_course.slug]))
    enrollment = enrollment_for(user=learner, course=published_course)
    concept = published_course.concepts.order_by("-position").first()
    response = client.post(reverse("already_know", args=[published_course.slug, concept.slug]))
    assert response.status_code == 302
    step = step_next(enrollment=enrollment)
    assert step.kind == Step.Kind.PLACEMENT
