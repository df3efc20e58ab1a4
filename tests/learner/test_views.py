"""The knowledge map and the insights page: scoped to their owner, 404/403 for others."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_knowledge_map_is_private(client, make_user, published_course):
    alice, bob = make_user("learner"), make_user("learner")
    client.force_login(alice)
    client.post(reverse("study_start", args=[published_course.slug]))
    assert client.get(reverse("knowledge_map", args=[published_course.slug])).status_code == 200
    client.force_login(bob)
    # Bob has no enrollment: Alice's map is not reachable by any URL of his.
    assert client.get(reverse("knowledge_map", args=[published_course.slug])).status_code == 404
    client.post(reverse("study_start", args=[published_course.slug]))
    html = client.get(reverse("knowledge_map", args=[published_course.slug])).content.decode()
    assert bob.username in html and alice.username not in html


def test_insights_are_for_the_course_educators_only(client, make_user, published_course):
    owner = published_course.owners.first()
    client.force_login(owner)
    assert client.get(reverse("course_insights", args=[published_course.slug])).status_code == 200
    client.force_login(make_user("educator"))
    assert client.get(reverse("course_insights", args=[published_course.slug])).status_code == 403
    assert client.post(reverse("course_recalibrate", args=[published_course.slug])).status_code == 403
    client.force_login(make_user("learner"))
    assert client.get(reverse("course_insights", args=[published_course.slug])).status_code == 403
