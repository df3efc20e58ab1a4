"""The response log in Django's admin: admins look answers up; nobody edits or deletes one."""

import pytest
from django.urls import reverse

from learner.models import Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def response(learner, published_course):
    from tutor.study import answer_submit, study_start

    step = study_start(user=learner, course=published_course)
    answer_submit(user=learner, course=published_course, step_id=step.pk, dont_know=True)
    return Response.objects.get()


def test_admins_look_up_responses(client, admin_user, response, learner):
    client.force_login(admin_user)
    listing = client.get(reverse("admin:learner_response_changelist"), {"q": learner.username})
    assert listing.status_code == 200 and learner.username in listing.content.decode()
    assert client.get(reverse("admin:learner_response_change", args=[response.pk])).status_code == 200


@pytest.mark.parametrize("role", ["learner", "educator"])
def test_others_are_sent_to_the_admin_log_in(client, make_user, role, response):
    client.force_login(make_user(role))
    for url in (
        reverse("admin:learner_response_changelist"),
        reverse("admin:learner_response_change", args=[response.pk]),
    ):
        got = client.get(url)
        assert got.status_code == 302 and "/django-admin/login/" in got["Location"]


def test_the_log_is_read_only_here(client, admin_user, response):
    client.force_login(admin_user)
    assert client.get(reverse("admin:learner_response_add")).status_code == 403
    assert client.get(reverse("admin:learner_response_delete", args=[response.pk])).status_code == 403
    url = reverse("admin:learner_response_change", args=[response.pk])
    assert client.post(url, {"outcome": "correct", "correct": "on"}).status_code == 403
    response.refresh_from_db()
    assert response.outcome == "dont_know"
