"""Courses in Django's admin: admins find courses, concepts and items and hand courses to
other educators; publishing, creating and deleting stay on the educator pages."""

import pytest
from django.urls import reverse

from courses.models import Course

pytestmark = pytest.mark.django_db


def _pages(course):
    concept = course.concepts.first()
    item = concept.items.first()
    return [
        reverse("admin:courses_course_changelist"),
        reverse("admin:courses_course_change", args=[course.pk]),
        reverse("admin:courses_concept_changelist"),
        reverse("admin:courses_concept_change", args=[concept.pk]),
        reverse("admin:courses_item_changelist"),
        reverse("admin:courses_item_change", args=[item.pk]),
    ]


def test_admins_see_courses_concepts_and_items(client, admin_user, published_course):
    client.force_login(admin_user)
    for url in _pages(published_course):
        response = client.get(url)
        assert response.status_code == 200, url
    item = published_course.concepts.first().items.first()
    page = client.get(reverse("admin:courses_item_change", args=[item.pk])).content.decode()
    assert "Item versions" in page  # every version of the item, read only


@pytest.mark.parametrize("role", ["learner", "educator"])
def test_others_are_sent_to_the_admin_log_in(client, make_user, role, published_course):
    client.force_login(make_user(role))
    for url in _pages(published_course):
        response = client.get(url)
        assert response.status_code == 302 and "/django-admin/login/" in response["Location"], url


def test_an_admin_hands_a_course_to_another_educator(client, admin_user, make_user, published_course):
    newcomer = make_user("educator")
    client.force_login(admin_user)
    url = reverse("admin:courses_course_change", args=[published_course.pk])
    response = client.post(url, {"owners": [newcomer.pk], "title": "Renamed", "status": "draft"})
    assert response.status_code == 302
    published_course.refresh_from_db()
    assert list(published_course.owners.all()) == [newcomer]
    # the rest of the course is read only here
    assert published_course.title != "Renamed" and published_course.is_published


def test_owners_are_chosen_among_educators_and_admins(client, admin_user, learner, published_course):
    client.force_login(admin_user)
    page = client.get(reverse("admin:courses_course_change", args=[published_course.pk])).content.decode()
    assert admin_user.username in page and f">{learner.username}<" not in page


def test_courses_are_not_created_or_deleted_here_but_can_be_unpublished(client, admin_user, published_course):
    client.force_login(admin_user)
    assert client.get(reverse("admin:courses_course_add")).status_code == 403
    assert client.get(reverse("admin:courses_course_delete", args=[published_course.pk])).status_code == 403
    response = client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "unpublish", "_selected_action": [published_course.pk]},
    )
    assert response.status_code == 302
    published_course.refresh_from_db()
    assert published_course.status == Course.Status.DRAFT and Course.objects.count() == 1


def test_concepts_and_items_are_read_only(client, admin_user, published_course):
    client.force_login(admin_user)
    concept = published_course.concepts.first()
    url = reverse("admin:courses_concept_change", args=[concept.pk])
    assert client.post(url, {"title": "Changed"}).status_code == 403
    concept.refresh_from_db()
    assert concept.title != "Changed"
    assert client.get(reverse("admin:courses_item_add")).status_code == 403
