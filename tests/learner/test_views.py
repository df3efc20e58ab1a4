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


def test_knowledge_map_needs_a_login(client, published_course):
    response = client.get(reverse("knowledge_map", args=[published_course.slug]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_knowledge_map_speaks_in_words_and_keeps_the_numbers_one_click_away(
    client, learner, published_course
):
    import re

    from tests.tutor.answers import finish_placement, right_answer
    from tutor.study import answer_submit

    _, step = finish_placement(learner, published_course)
    for _ in range(3):
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
    client.force_login(learner)
    html = client.get(reverse("knowledge_map", args=[published_course.slug])).content.decode()
    assert "We're still unsure: a few more answers will tell." in html or "Nearly: a few more" in html
    # P(mastered) and the ± spread appear only inside the "The numbers" disclosures
    outside = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    assert "P(mastered)" not in outside and "±" not in outside
    assert "<summary>The numbers" in html and "P(mastered)</dt>" in html
    # the graph: a name for the picture, and each concept's state in words for screen readers
    assert 'role="group" aria-label="Your knowledge map: each concept of Tiny fractions' in html
    node = r'<a href="#concept-what-a-fraction-is" class="node band-[a-z-]+" aria-label="What a fraction is: '
    assert re.search(node + r'(learning|nearly there|mastered)"', html)
