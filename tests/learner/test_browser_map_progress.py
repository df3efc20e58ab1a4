"""The knowledge map and the progress page in a real browser: on a phone nothing overflows
sideways, and both work from the keyboard alone, with visible focus and names a screen
reader can say."""

import pytest
from django.urls import reverse

from tests.conftest import screenshot
from tests.learner.test_progress import answer_until_mastered

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def log_in(page, base, user):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/learn/")


def tab_until(page, predicate: str, limit: int = 60):
    """Press Tab until ``predicate`` (JS, on document.activeElement) holds; the element's
    description on failure."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return {predicate}; }}"):
            return
    raise AssertionError(f"Tab never reached {predicate}")


def test_map_and_progress_on_a_phone_and_from_the_keyboard(page, live_server, make_user, published_course):
    learner = make_user("learner")
    answer_until_mastered(learner, published_course)
    base = live_server.url
    page.set_viewport_size(PHONE)
    log_in(page, base, learner)

    # The dashboard leads to both pages.
    page.get_by_role("link", name=f"progress in {published_course.title}").wait_for()

    page.goto(base + reverse("knowledge_map", args=[published_course.slug]))
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the knowledge map scrolls sideways on a phone"
    graph = page.get_by_role("group", name="Your knowledge map: each concept of Tiny fractions", exact=False)
    assert graph.is_visible()
    assert page.get_by_role("link", name="What a fraction is: mastered").count() == 1
    screenshot(page, "phone-knowledge-map")

    # Keyboard: the skip link, then every concept of the map in ramp order, each focused visibly.
    page.keyboard.press("Tab")  # the "skip to content" link of every page
    tab_until(page, "el.classList.contains('skip-graph')")
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().width > 0")
    labels = []
    for _ in range(published_course.concepts.count()):
        page.keyboard.press("Tab")
        labels.append(page.evaluate("() => document.activeElement.getAttribute('aria-label')"))
        ring = page.evaluate(
            "() => getComputedStyle(document.activeElement.querySelector('rect.focus-ring')).stroke"
        )
        assert ring not in ("none", ""), "a focused concept shows no focus ring"
    titles = list(published_course.concepts.order_by("position").values_list("title", flat=True))
    assert [label.split(": ")[0] for label in labels] == titles
    assert all(label.split(": ")[1] for label in labels)  # its state in words
    screenshot(page, "phone-knowledge-map-focus")
    # Enter on a concept goes to its row in the list.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash.startsWith('#concept-')")

    # The numbers are one keyboard press away.
    numbers = page.locator("details.numbers").first
    numbers.locator("summary").focus()
    page.keyboard.press("Enter")
    assert numbers.get_attribute("open") is not None
    assert numbers.get_by_text("P(mastered)").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # To the progress page by keyboard.
    page.get_by_role("link", name="Your progress over time").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(base + reverse("learner_progress", args=[published_course.slug]))
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the progress page scrolls sideways on a phone"
    assert page.get_by_role("img", name="Concepts mastered over time").is_visible()
    tab_until(page, "el.tagName === 'SUMMARY' && el.textContent.includes('The chart as a table')")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused summary shows no focus"
    page.keyboard.press("Enter")
    table = page.locator("details.chart-table table")
    table.wait_for()
    assert table.get_by_role("row").count() >= 2
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(page, "phone-progress")

    page.set_viewport_size({"width": 1200, "height": 900})
    screenshot(page, "desktop-progress")
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
