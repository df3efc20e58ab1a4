"""The tutor speaking, in the browser, through a real worker on the `tutor` queue: a reply to a
wrong answer that streams in and a probe the learner answers, a hint, "explain another way",
the chat panel; and, with no model, the course's own text with a plain note. The worker's
model is the scripted stand-in (tests/tutor/scripted_tutor.py); the real model's words are
judged by `manage.py evaluate_tutor`."""

import pytest

from models_train.models import ModelVersion
from models_train.versions import model_version_promote, model_version_register
from tests.conftest import screenshot
from tests.tutor.answers import fill_answer, wrong_answer
from tutor.models import TutorMessage
from tutor.study import current_step, enrollment_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-Strong-pass-123"
# counts the text the stream adds before the final message replaces it
WATCH_STREAM = """() => {
  window.streamed = 0;
  new MutationObserver((records) => {
    for (const r of records) if (r.target.closest && r.target.closest('.tutor-stream')) window.streamed++;
    for (const r of records) if (r.target.classList && r.target.classList.contains('tutor-stream'))
      window.streamed++;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def log_in(page, base, username):
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/learn/")


def activate_scripted_model():
    version = model_version_register(name="scripted-tutor", checkpoint_path="/scripted")
    model_version_promote(version=version, override_reason="the browser tests' scripted stand-in")
    return version


def to_first_new_concept(page, learner, course):
    """Through placement with "I don't know" to the first new concept."""
    enrollment = enrollment_for(user=learner, course=course)
    for _ in range(20):
        step = current_step(enrollment=enrollment)
        if step is not None and step.kind == "new":
            return enrollment, step
        page.get_by_role("button", name="I don't know").click()
        page.wait_for_function(
            "(pk) => { const s = document.querySelector('input[name=step]'); return s && s.value !== pk; }",
            arg=str(step.pk),
        )
    raise AssertionError("placement did not end")


def wait_done(page, selector):
    page.wait_for_selector(f"{selector} .tutor-message.done", timeout=15_000)
    return page.locator(f"{selector} .tutor-message.done").last


def test_the_tutor_speaks_through_the_study_page(
    page, live_server, make_user, published_course, celery_worker_process
):
    activate_scripted_model()
    learner = make_user("learner")
    base = live_server.url
    log_in(page, base, learner.username)
    page.goto(f"{base}/learn/{published_course.slug}/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#answer-form")
    enrollment, step = to_first_new_concept(page, learner, published_course)

    # explain another way, on the new concept's material
    page.get_by_role("button", name="In plain words").click()
    explained = wait_done(page, "#explanations")
    assert explained.inner_text().startswith("Tutor")
    assert "From the material:" in explained.inner_text()

    # a wrong answer: the tutor's reply streams in, then the learner answers its question
    page.evaluate(WATCH_STREAM)
    answer = wrong_answer(step)
    fill_answer(page, step, answer)
    page.get_by_role("button", name="Check").click()
    reply = wait_done(page, ".tutor-turn")
    assert page.evaluate("window.streamed") >= 1  # text arrived before the final swap
    text = reply.inner_text()
    assert "You wrote" in text or "How did you get" in text
    assert "course's own text" not in text
    mistake = TutorMessage.objects.get(moment="mistake")
    assert mistake.source == "model"
    screenshot(page, "tutor-mistake-reply")
    page.get_by_label("Your reply to the tutor").fill("I counted the wrong thing, I think")
    page.get_by_role("button", name="Reply").click()
    followup = wait_done(page, ".followup")
    assert followup.is_visible()
    assert page.get_by_text("I counted the wrong thing, I think").is_visible()
    assert page.get_by_role("button", name="Show the worked solution").is_visible()
    screenshot(page, "tutor-probe-answered")
    page.get_by_role("button", name="Next question").click()
    page.wait_for_selector("#answer-form")

    # a hint on request, in the tutor's words
    step = current_step(enrollment=enrollment)
    hint_button = page.get_by_role("button", name="A hint, please")
    if hint_button.count():
        hint_button.click()
        hint = wait_done(page, "#hints")
        assert "Here's a hint:" in hint.inner_text()

    # the chat panel
    page.get_by_label("Your question").fill("What does the denominator mean?")
    page.get_by_role("button", name="Ask").click()
    chat = wait_done(page, "#chat")
    assert "What does the denominator mean?" in page.locator("#chat").inner_text()
    assert chat.inner_text().startswith("Tutor")
    screenshot(page, "tutor-chat")
    body = page.locator("body").inner_text()
    assert "{%" not in body and "{#" not in body  # no template source on the page
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


def test_without_a_model_the_course_text_appears_and_says_so(page, live_server, make_user, published_course):
    assert not ModelVersion.objects.filter(status="active").exists()
    learner = make_user("learner")
    base = live_server.url
    log_in(page, base, learner.username)
    page.goto(f"{base}/learn/{published_course.slug}/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#answer-form")
    enrollment, step = to_first_new_concept(page, learner, published_course)
    answer = wrong_answer(step)
    fill_answer(page, step, answer)
    page.get_by_role("button", name="Check").click()
    reply = wait_done(page, ".tutor-turn")
    assert (
        "The tutor model isn't available right now, so this is the course's own text." in reply.inner_text()
    )
    screenshot(page, "tutor-fallback")
