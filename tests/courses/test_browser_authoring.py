"""An educator builds a small course in the browser, with htmx previews under the CSP."""

import pytest

from courses.models import Course, Item
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"

ITEM = """slug: add-fractions
type: numeric
difficulty: 0.2
params:
  a: {range: [1, 4]}
  b: {range: [5, 9]}
prompt: What is $\\frac{{{a}}}{{{b}}} + \\frac{{1}}{{{b}}}$?
answer: (a + 1)/b
hints:
  - The pieces are the same size. How many pieces are there?
solution: Count the pieces of size 1/{b}.
misconceptions:
  - slug: add-across
    diagnosis: Added numerators and denominators.
    probe: Is a half plus a half equal to two quarters?
    match: {value: "(a + 1)/(2*b)"}
"""


def test_educator_builds_and_publishes_a_course(page, live_server, make_user):
    educator = make_user("educator")
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(educator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/teach/")

    page.get_by_label("Title").fill("Fractions, briefly")
    page.get_by_label("Slug").fill("fractions-briefly")
    page.get_by_role("button", name="Create course").click()
    page.wait_for_url(base + "/teach/courses/fractions-briefly/")

    for title, slug in (("Parts of a whole", "parts-of-a-whole"), ("Adding like fractions", "adding-like")):
        page.goto(base + "/teach/courses/fractions-briefly/")
        page.get_by_role("region", name="Concepts").get_by_label("Title").fill(title)
        page.get_by_role("region", name="Concepts").get_by_label("Slug").fill(slug)
        page.get_by_role("button", name="Add concept").click()
        page.wait_for_url(f"{base}/teach/courses/fractions-briefly/concepts/{slug}/")

    # Prerequisite and material with a live, sanitised, math-rendered preview.
    page.get_by_label("Parts of a whole").check()
    page.get_by_label("Intuition").fill("Two slices of a pizza cut in $\\frac{1}{8}$ths make $\\frac{2}{8}$.")
    page.locator("#material-preview math").first.wait_for(timeout=10_000)
    page.evaluate("() => { window.__notReloaded = true; }")
    page.get_by_role("button", name="Save concept").click()
    page.get_by_text("Saved “Adding like fractions”.").wait_for()
    assert page.evaluate("() => window.__notReloaded === true"), "saving reloaded the page"
    assert page.get_by_label("Parts of a whole").is_checked()

    # A parameterised item, previewed as 5 variants, then tried with a misconception.
    page.get_by_role("link", name="Add an item").click()
    page.get_by_label("Item (YAML)").fill(ITEM)
    page.get_by_role("button", name="Show 5 variants").click()
    page.locator("#variants li.variant").nth(4).wait_for(timeout=10_000)
    assert page.locator("#variants li.variant").count() == 5
    page.get_by_role("button", name="Save item").click()
    page.wait_for_url(f"{base}/teach/courses/fractions-briefly/concepts/adding-like/items/add-fractions/")
    # An edit of a saved item is saved in place, as a new version.
    page.evaluate("() => { window.__notReloaded = true; }")
    page.get_by_label("Item (YAML)").fill(ITEM.replace("difficulty: 0.2", "difficulty: 0.4"))
    page.get_by_role("button", name="Save item").click()
    page.get_by_text("Saved add-fractions as version 2.").wait_for()
    assert page.evaluate("() => window.__notReloaded === true"), "saving reloaded the page"
    screenshot(page, "educator-item-editor")

    # The other concept needs an item too before the checks let the course be published.
    page.goto(f"{base}/teach/courses/fractions-briefly/concepts/parts-of-a-whole/items/new/")
    page.get_by_label("Item (YAML)").fill(ITEM.replace("add-fractions", "count-pieces"))
    page.get_by_role("button", name="Save item").click()
    page.wait_for_url(f"{base}/teach/courses/fractions-briefly/concepts/parts-of-a-whole/items/count-pieces/")

    page.goto(base + "/teach/courses/fractions-briefly/")
    assert page.locator("svg.concept-graph a.node").count() == 2
    assert page.locator("svg.concept-graph path.edge").count() == 1
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published “Fractions, briefly”").wait_for()
    screenshot(page, "educator-course-graph")
    assert Course.objects.get(slug="fractions-briefly").status == Course.Status.PUBLISHED
    assert Item.objects.filter(concept__course__slug="fractions-briefly", is_template=True).count() == 2
    assert page.console_errors == []


def test_try_it_shows_the_misconception_verdict(page, live_server, make_user):
    educator = make_user("educator")
    from courses.services import concept_create, course_create

    course = course_create(user=educator, slug="tiny", title="Tiny")
    concept_create(course=course, slug="adding", title="Adding")
    base = live_server.url
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(educator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(base + "/teach/courses/tiny/concepts/adding/items/new/")
    page.get_by_label("Item (YAML)").fill(ITEM)
    from courses.item_yaml import item_from_yaml
    from courses.variants import draw_variant

    values = draw_variant(item_from_yaml(ITEM), 0).values
    a, b = int(values["a"]), int(values["b"])
    page.get_by_label("Answer").fill(f"{a + 1}/{2 * b}")
    page.get_by_role("button", name="Check answer").click()
    page.locator("#verdict .verdict").wait_for()
    assert "Incorrect" in page.locator("#verdict").inner_text()
    assert "add-across" in page.locator("#verdict").inner_text()
    page.get_by_label("Answer").fill(f"{a + 1}/{b}")
    page.get_by_role("button", name="Check answer").click()
    page.get_by_text("Correct", exact=True).wait_for()
    assert page.console_errors == []
