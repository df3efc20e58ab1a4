"""The study pages: a question with its reason, answers through htmx, refusals, and nothing of
another learner's reachable."""

import pytest
from django.urls import reverse

from learner.models import Enrollment, Response, Step
from tests.tutor.answers import right_answer
from tutor.study import current_step, enrollment_for, step_next

pytestmark = pytest.mark.django_db


def test_opening_the_study_page_changes_nothing_until_the_learner_starts(client, learner, published_course):
    client.force_login(learner)
    html = client.get(reverse("study", args=[published_course.slug])).content.decode()
    assert "Start" in html and 'name="step"' not in html
    assert not Enrollment.objects.exists() and not Step.objects.exists()  # a GET enrols no one
    response = client.post(reverse("study_start", args=[published_course.slug]))
    assert response.status_code == 302
    html = client.get(reverse("study", args=[published_course.slug])).content.decode()
    assert "Why this question?" in html and "Placement question 1" in html
    assert 'name="step"' in html
    # starting again (a second tab, a double click) keeps the one open question
    client.post(reverse("study_start", args=[published_course.slug]))
    assert Step.objects.filter(answered_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("study_answer", {"step": "abc", "answer": "1"}),
        ("study_answer", {"answer": "1"}),
        ("study_answer", {"step": "1", "time_taken_ms": "-5"}),
        ("study_hint", {"step": "abc"}),
        ("study_hint", {}),
        ("study_solution", {"step": "x1"}),
    ],
)
def test_a_malformed_request_is_a_400_that_says_what(client, learner, published_course, name, data):
    client.force_login(learner)
    client.post(reverse("study_start", args=[published_course.slug]))
    before = (Response.objects.count(), list(Step.objects.values_list("hints_shown", flat=True)))
    response = client.post(reverse(name, args=[published_course.slug]), data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "The request was incomplete" in response.content.decode()
    assert (Response.objects.count(), list(Step.objects.values_list("hints_shown", flat=True))) == before


@pytest.mark.parametrize("name", ["study_answer", "study_hint", "study_continue", "study_solution"])
def test_a_learner_who_hasnt_started_gets_a_404(client, learner, published_course, name):
    client.force_login(learner)
    response = client.post(reverse(name, args=[published_course.slug]), {"step": "1", "answer": "1"})
    assert response.status_code == 404
    assert not Enrollment.objects.exists()
    assert client.get(reverse("study_step", args=[published_course.slug])).status_code == 404


def test_answer_through_htmx_returns_the_exchange_fragment(client, learner, published_course):
    client.force_login(learner)
    client.post(reverse("study_start", args=[published_course.slug]))
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
    client.post(reverse("study_start", args=[published_course.slug]))
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
    client.post(reverse("study_start", args=[published_course.slug]))
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
    client.post(reverse("study_start", args=[published_course.slug]))
    step = current_step(enrollment=enrollment_for(user=learner, course=published_course))
    response = client.post(reverse("study_solution", args=[published_course.slug]), {"step": step.pk})
    assert response.status_code == 409


def test_already_know_starts_a_short_probe(client, learner, published_course):
    client.force_login(learner)
    client.post(reverse("study_start", args=[published_course.slug]))
    enrollment = enrollment_for(user=learner, course=published_course)
    concept = published_course.concepts.order_by("-position").first()
    response = client.post(reverse("already_know", args=[published_course.slug, concept.slug]))
    assert response.status_code == 302
    step = step_next(enrollment=enrollment)
    assert step.kind == Step.Kind.PLACEMENT


def test_placement_ends_with_where_you_stand_in_words(client, learner, published_course):
    from html import unescape

    from tutor.study import placement_summary

    client.force_login(learner)
    client.post(reverse("study_start", args=[published_course.slug]))
    enrollment = enrollment_for(user=learner, course=published_course)
    html = ""
    for _ in range(20):
        step = current_step(enrollment=enrollment)
        if step.kind != Step.Kind.PLACEMENT:
            break
        response = client.post(
            reverse("study_answer", args=[published_course.slug]),
            {"step": step.pk, "answer": right_answer(step)},
            headers={"HX-Request": "true"},
        )
        html = unescape(response.content.decode())
    enrollment.refresh_from_db()
    summary = placement_summary(enrollment=enrollment)
    assert summary["right"] == len(summary["answers"]) > 0
    assert "Where you stand" in html and "You showed you know:" in html
    assert all(title in html for title in summary["known"] + summary["inferred"])
    assert "I already know this" in html


def test_a_long_list_in_where_you_stand_names_the_first_few_and_counts_the_rest():
    from tutor.study import _in_words

    assert _in_words([]) == "" and _in_words(["A"]) == "A" and _in_words(["A", "B", "C"]) == "A, B and C"
    titles = [f"T{i}" for i in range(40)]
    assert _in_words(titles) == "T0, T1, T2, T3, T4 and 35 more (all on your knowledge map)"
    assert _in_words(titles[:6]) == "T0, T1, T2, T3, T4 and T5"
