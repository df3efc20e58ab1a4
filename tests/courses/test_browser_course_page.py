"""The educator's course page on a phone: nothing overflows sideways, long concept titles
are shown in full in the graph, and the ramp checks arrive by htmx after the page."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from courses import services
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"
LONG_TITLE = (
    "Comparing two fractions when only the top or only the bottom number differs, and why the rule works"
)


def test_course_page_on_a_phone(page, live_server, published_course):
    cache.clear()
    owner = published_course.owners.first()
    services.concept_create(course=published_course, slug="comparing-fractions", title=LONG_TITLE)
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/teach/")
    page.goto(base + reverse("course_detail", args=[published_course.slug]))

    # The checks come after the page, and colour the graph when they do.
    page.get_by_text("1 finding.").wait_for(timeout=30_000)
    node = page.get_by_role("link", name=f"{LONG_TITLE}: 1 warning")
    assert node.count() == 1
    assert "node warning" in node.get_attribute("class")
    # The whole title is drawn, line by line, inside its box.
    drawn = node.locator("text").evaluate(
        "t => [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ')"
    )
    assert drawn == LONG_TITLE
    fits = node.evaluate(
        "a => { const box = a.querySelector('rect:not(.focus-ring)').getBBox();"
        " const text = a.querySelector('text').getBBox();"
        " return text.x >= box.x && text.x + text.width <= box.x + box.width"
        " && text.y >= box.y && text.y + text.height <= box.y + box.height; }"
    )
    assert fits, "the title runs out of its box"

    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
        "the course page scrolls sideways on a phone"
    )
    screenshot(page, "phone-course-page")
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
