"""The study loop as a learner lives it, on the seed fractions ramp, in the browser: placement
says where they stand, math renders everywhere (prompts, choices, ordering lines, tutor
messages), "I don't know" shows a worked example, an ordering question is put in order with
the keyboard, "Why this question?" speaks in words with the numbers one click away. Screenshots
in test-artifacts/."""

import random

import pytest

from learner.models import Response, Step
from tests.conftest import screenshot
from tests.tutor.answers import fill_answer, right_answer
from tutor.study import current_step, enrollment_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/learn/")


def wait_for_next(page, step_pk):
    page.wait_for_function(
        "(pk) => { const s = document.querySelector('input[name=step]'); return !s || s.value !== pk; }",
        arg=str(step_pk),
    )


def no_raw_tex(page):
    # KaTeX runs once htmx has settled the new content: wait for it, then read the page
    page.wait_for_function("() => !document.querySelector('.math:not([data-rendered])')")
    text = page.locator("main").inner_text()
    assert "\\frac" not in text and "$" not in text, text[:500]


def test_a_learner_goes_through_placement_and_practice_on_the_fractions_ramp(
    page, live_server, make_user, fractions
):
    learner = make_user("learner")
    base = live_server.url
    log_in(page, base, learner.username)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#answer-form")
    enrollment = enrollment_for(user=learner, course=fractions)
    rng = random.Random(3)

    # placement: right about half the time; it ends by saying where the learner stands
    while (step := current_step(enrollment=enrollment)).kind == Step.Kind.PLACEMENT:
        no_raw_tex(page)
        if rng.random() < 0.5:
            fill_answer(page, step, right_answer(step))
            page.get_by_role("button", name="Check").click()
        else:
            page.get_by_role("button", name="I don't know").click()
        wait_for_next(page, step.pk)
    page.get_by_role("heading", name="Where you stand").wait_for()
    assert page.get_by_text("You start with").is_visible()
    screenshot(page, "study-where-you-stand")

    # "Why this question?" in words, with the figures one click away
    page.get_by_text("Why this question?").click()
    why = page.locator("details.why").inner_text()
    assert "P(mastered)" not in why and "0." not in why.split("The numbers")[0]
    page.get_by_text("The numbers behind it").click()
    assert "%" in page.locator("details.numbers").inner_text()

    # "I don't know" on a practice question shows how it works before a similar question
    step = current_step(enrollment=enrollment)
    page.get_by_role("button", name="I don't know").click()
    page.locator(".worked-example").wait_for()
    assert "Here is how this one works" in page.locator("#exchange").inner_text()
    no_raw_tex(page)
    screenshot(page, "study-dont-know-worked-example")

    # a run of practice: math rendered, no question twice in a row, no template thrice
    served = []
    for _ in range(14):
        step = current_step(enrollment=enrollment)
        if step is None:
            break
        served.append((step.item_id, step.variant_seed, step.details.get("generated")))
        assert page.locator(".prompt math, .prompt p").count() >= 1
        no_raw_tex(page)
        fill_answer(page, step, right_answer(step))
        page.get_by_role("button", name="Check").click()
        wait_for_next(page, step.pk)
        if page.get_by_role("button", name="Skip to the next question").count():
            page.get_by_role("button", name="Skip to the next question").click()
            page.wait_for_selector("#answer-form")
    assert all(a != b for a, b in zip(served, served[1:]))  # never the identical question twice in a row
    items = [s[0] for s in served]
    assert all(not (a == b == c) for a, b, c in zip(items, items[1:], items[2:]))
    assert Response.objects.filter(user=learner).count() > 10
    screenshot(page, "study-practice")
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


def test_an_ordering_question_is_put_in_order_with_the_keyboard(page, live_server, make_user, fractions):
    learner = make_user("learner")
    item = fractions.concepts.get(slug="order-of-operations").items.filter(type="ordering").first()
    enrollment = enrollment_for(user=learner, course=fractions)
    enrollment.placement_finished_at = enrollment.started_at
    enrollment.save(update_fields=["placement_finished_at"])
    Step.objects.create(
        enrollment=enrollment,
        kind="practice",
        concept=item.concept,
        item=item,
        item_version=item.current_version,
        variant_seed=5,
        reason="an ordering to try",
    )
    base = live_server.url
    log_in(page, base, learner.username)
    page.goto(f"{base}/learn/{fractions.slug}/")
    step = current_step(enrollment=enrollment)
    lines = right_answer(step).split("\n")
    assert page.locator(".order-item math").count() + page.locator(".order-item").count() >= len(lines)
    no_raw_tex(page)
    screenshot(page, "study-ordering-before")
    # keyboard only: Tab to a line's button, Enter moves it, focus stays with it
    for place, line in enumerate(lines):
        while True:
            order = page.locator('input[name="order"]').evaluate_all("els => els.map(e => e.value)")
            if order.index(line) <= place:
                break
            page.locator(".order-item").nth(order.index(line)).get_by_role(
                "button", name="Move this line up"
            ).focus()
            page.keyboard.press("Enter")
            assert page.evaluate(
                "document.activeElement.classList.contains('move-up') || "
                "document.activeElement.classList.contains('move-down')"
            )
    assert "Moved to place" in page.locator("[data-order-status]").inner_text()
    screenshot(page, "study-ordering-in-order")
    page.get_by_role("button", name="Check").click()
    page.get_by_text("Correct.").wait_for()
    assert Response.objects.get(step=step).correct
