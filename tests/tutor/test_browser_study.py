"""A learner's journey in the browser: placement, practice with feedback, the knowledge map."""

import pytest

from learner.models import Response
from tests.conftest import screenshot
from tests.tutor.answers import fill_answer, right_answer
from tutor.study import current_step, enrollment_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"


def test_learner_places_practises_and_sees_the_map(page, live_server, make_user, published_course):
    learner = make_user("learner")
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(learner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/learn/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"{base}/learn/{published_course.slug}/")

    enrollment = enrollment_for(user=learner, course=published_course)
    # Answer a few questions through the page; htmx swaps in feedback and the next one.
    for _ in range(6):
        step = current_step(enrollment=enrollment)
        if step is None:
            break
        answer = right_answer(step)
        fill_answer(page, step, answer)
        page.get_by_role("button", name="Check").click()
        page.wait_for_function(
            "(pk) => { const s = document.querySelector('input[name=step]');"
            " return s === null || s.value !== pk; }",
            arg=str(step.pk),
        )
    assert Response.objects.filter(user=learner).count() >= 1
    assert (
        Response.objects.filter(user=learner, correct=True).count()
        == Response.objects.filter(user=learner).count()
    )
    screenshot(page, "learner-study")

    page.get_by_role("link", name="Your knowledge map", exact=True).click()
    page.wait_for_url(f"{base}/learn/{published_course.slug}/map/")
    assert page.locator("svg.concept-graph a.node").count() == published_course.concepts.count()
    assert page.get_by_role("heading", name="Why Ramp served what it served").is_visible()
    screenshot(page, "learner-knowledge-map")
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
