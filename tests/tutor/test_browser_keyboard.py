"""The whole study loop with the keyboard alone, on the seed fractions ramp: log in, open the
course, start, placement, practice with a hint and "I don't know", the tutor's chat. After each
action the focus lands where the change happened (never back at the top of the page), and the
focused control is visibly outlined. Screenshots in test-artifacts/."""

import random

import pytest

from learner.models import Step
from tests.conftest import screenshot
from tests.tutor.answers import right_answer
from tests.tutor.test_browser_study_loop import PASSWORD
from tutor.study import current_step, enrollment_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def focused(page) -> dict:
    """What has the keyboard focus: its tag, text or name, whether it is inside the study
    exchange or the chat, and whether its focus outline is drawn."""
    return page.evaluate(
        """() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return {
            tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '',
            text: (e.innerText || e.value || '').trim().slice(0, 80),
            label: e.getAttribute('aria-label') || '',
            in_exchange: !!e.closest('#exchange'), in_chat: !!e.closest('#chat'),
            outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
    }"""
    )


def tab_to(page, wanted, *, limit: int = 80, backwards: bool = False) -> dict:
    """Press Tab until the focused control satisfies ``wanted`` (a function of `focused`)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        if wanted(now):
            assert now["outlined"], f"no visible focus on {now}"
            return now
    raise AssertionError(f"Tab never reached the control (last: {focused(page)})")


def answer_by_keyboard(page, step: Step, answer: str) -> None:
    """Answer the step's question with keys only: type into the box, pick a choice with the
    arrow keys, or move ordering lines with their buttons; then Enter / the Check button."""
    kind = step.item.type
    if kind == "multiple_choice":
        now = focused(page)
        if now["type"] != "radio":
            now = tab_to(page, lambda f: f["type"] == "radio")
        # arrow keys move through the group and select what they land on
        for _ in range(12):
            if page.evaluate("document.activeElement.value") == answer:
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked && document.activeElement.value") == answer
        page.keyboard.press("Enter")
    elif kind == "ordering":
        wanted = answer.split("\n")
        for place, line in enumerate(wanted):
            for _ in range(len(wanted)):
                order = page.locator('input[name="order"]').evaluate_all("els => els.map(e => e.value)")
                if order.index(line) <= place:
                    break
                index = order.index(line)
                # Tab from the list's start to the line's "up" button
                page.locator(".order-item").first.locator("button").first.focus()
                page.keyboard.press("Shift+Tab")
                tab_to(
                    page,
                    lambda f, i=index: (
                        f["label"] == "Move this line up"
                        and page.evaluate(
                            "(i) => document.activeElement.closest('.order-item') === "
                            "document.querySelectorAll('.order-item')[i]",
                            i,
                        )
                    ),
                )
                page.keyboard.press("Enter")
        tab_to(page, lambda f: f["text"] == "Check")
        page.keyboard.press("Enter")
    else:
        if focused(page)["name"] != "answer":  # e.g. after a hint: the hint has the focus
            tab_to(page, lambda f: f["tag"] == "input" and f["name"] == "answer")
        page.keyboard.type(answer)
        page.keyboard.press("Enter")


def wait_for_next(page, step_pk):
    page.wait_for_function(
        "(pk) => { const s = document.querySelector('input[name=step]'); return !s || s.value !== pk; }",
        arg=str(step_pk),
    )
    page.wait_for_load_state("networkidle")


def lands_in_the_exchange(page) -> None:
    # the focus moves once htmx has settled the new content (keys pressed before that would
    # reach a form htmx hasn't taken over yet: a person is not that fast)
    try:
        page.wait_for_function(
            "() => !!document.activeElement.closest('#exchange')"
            " && !document.querySelector('.htmx-settling, .htmx-added, .htmx-swapping, .htmx-request')",
            timeout=3000,
        )
    except Exception:
        raise AssertionError(f"after the swap the focus is not on the new content: {focused(page)}") from None


def test_the_whole_study_loop_with_the_keyboard_alone(page, live_server, make_user, fractions):
    learner = make_user("learner")
    base = live_server.url
    page.goto(base + "/accounts/login/")
    # the username box has the focus on arrival
    assert focused(page)["name"] == "username"
    page.keyboard.type(learner.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/learn/")

    # the course, from the dashboard, and Start
    tab_to(page, lambda f: f["tag"] == "a" and fractions.title in f["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/learn/{fractions.slug}/")
    tab_to(page, lambda f: f["text"] == "Start")
    page.keyboard.press("Enter")
    page.wait_for_selector("#answer-form")
    enrollment = enrollment_for(user=learner, course=fractions)
    rng = random.Random(5)

    # placement: half right, half "I don't know" (Tab to it from the answer)
    while (step := current_step(enrollment=enrollment)).kind == Step.Kind.PLACEMENT:
        if rng.random() < 0.5:
            answer_by_keyboard(page, step, right_answer(step))
        else:
            tab_to(page, lambda f: f["text"] == "I don't know")
            page.keyboard.press("Enter")
        wait_for_next(page, step.pk)
        lands_in_the_exchange(page)
    page.get_by_role("heading", name="Where you stand").wait_for()
    screenshot(page, "keyboard-where-you-stand")

    # a hint on request, then the answer: the hint is read where the focus lands
    step = current_step(enrollment=enrollment)
    tab_to(page, lambda f: f["text"] in ("A hint, please", "Another hint"))
    page.keyboard.press("Enter")
    page.locator("#hints ol.hints li").first.wait_for()
    lands_in_the_exchange(page)
    screenshot(page, "keyboard-hint")
    answer_by_keyboard(page, current_step(enrollment=enrollment), right_answer(step))
    wait_for_next(page, step.pk)
    lands_in_the_exchange(page)

    # "I don't know": the worked example, then a similar question with the focus on it
    step = current_step(enrollment=enrollment)
    tab_to(page, lambda f: f["text"] == "I don't know")
    page.keyboard.press("Enter")
    page.locator(".worked-example").wait_for()
    wait_for_next(page, step.pk)
    lands_in_the_exchange(page)

    # a few practice questions, every one answered without the mouse
    for _ in range(6):
        step = current_step(enrollment=enrollment)
        if step is None:
            break
        answer_by_keyboard(page, step, right_answer(step))
        wait_for_next(page, step.pk)
        lands_in_the_exchange(page)
    screenshot(page, "keyboard-practice")

    # the tutor's chat: Tab to the question box, type, Enter on Ask
    tab_to(page, lambda f: f["tag"] == "textarea" and f["name"] == "question")
    page.keyboard.type("What is a common denominator?")
    tab_to(page, lambda f: f["text"] == "Ask")
    page.keyboard.press("Enter")
    page.locator(".chat-entry").first.wait_for()
    assert "What is a common denominator?" in page.locator("#chat").inner_text()
    page.wait_for_function("() => !!document.activeElement.closest('#chat')", timeout=3000)
    screenshot(page, "keyboard-chat")
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
