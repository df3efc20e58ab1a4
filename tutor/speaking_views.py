"""The tutor's messages on the study page: streamed in, answered, rated; hints, explanations
and the chat panel. Thin: tutor.speaking does the work. Every message is its learner's own:
another user's message is a 404, whatever its id."""

import json
import time

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.accounts.services import user_set_shares_questions
from courses.html import markdown_html
from courses.models import Course
from courses.selectors import courses_published
from learner.models import Enrollment
from learner.selectors import enrollment_of_learner_or_404
from tutor.models import TutorMessage
from tutor.speaking import (
    SpeakingError,
    chat_start,
    explain_start,
    followup_start,
    refusal_text,
    tutor_message_expire,
)
from tutor.study import current_step

TEMPLATE = "tutor/study.html"
POLL_SECONDS = 0.04


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=2000, strip=True)


class RateForm(forms.Form):
    rating = forms.ChoiceField(choices=TutorMessage.Rating.choices)


class QuestionForm(forms.Form):
    question = forms.CharField(max_length=settings.RAMP_TUTOR_QUESTION_CHARS, strip=True)


class ExplainForm(forms.Form):
    level = forms.CharField(max_length=32)


class ConsentForm(forms.Form):
    shares = forms.BooleanField(required=False)


def _own_message(request, slug: str, pk: int) -> TutorMessage:
    message = (
        TutorMessage.objects.select_related("enrollment__course", "concept", "step")
        .filter(pk=pk, enrollment__user=request.user, enrollment__course__slug=slug)
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return message


def message_context(message: TutorMessage) -> dict:
    done = message.status == TutorMessage.Status.DONE
    return {
        "message": message,
        "course": message.enrollment.course,
        "message_done": done,
        "message_html": markdown_html(message.text) if done else "",
        "message_note": refusal_text(message) if done else "",
        "ratings": TutorMessage.Rating.choices,
    }


def _message_response(request, message: TutorMessage, status: int = 200):
    return render(request, TEMPLATE + "#message", message_context(message), status=status)


@require_GET
@login_required
def message_view(request, slug, pk):
    """The message as it stands: the final text once done, else the streaming placeholder."""
    return _message_response(request, _own_message(request, slug, pk))


def _event(name: str, data) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


@require_GET
@login_required
def message_stream(request, slug, pk):
    """Server-sent events: the message's text as it is written ("text"), then "done". Gives
    the message up for the authored text when its time budget runs out."""
    message = _own_message(request, slug, pk)
    final_url = reverse("tutor_message", args=[slug, message.pk])

    def events():
        sent = 0
        yield b": stream open\n\n"
        while True:
            row = TutorMessage.objects.filter(pk=message.pk).values("status", "text", "first_text_at").first()
            if row is None:
                return
            if row["status"] != TutorMessage.Status.DONE and len(row["text"]) > sent:
                yield _event("text", row["text"][sent:])
                sent = len(row["text"])
            if row["status"] == TutorMessage.Status.DONE:
                yield _event("done", final_url)
                return
            age = (timezone.now() - message.created_at).total_seconds()
            if age > settings.RAMP_TUTOR_MESSAGE_SECONDS or (
                row["first_text_at"] is None and age > settings.RAMP_TUTOR_FIRST_TEXT_SECONDS
            ):
                tutor_message_expire(message=message)
                continue
            time.sleep(POLL_SECONDS)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on at once
    return response


@require_POST
@login_required
def message_reply(request, slug, pk):
    """The learner answers the tutor's probing question: the tutor's next turn."""
    message = _own_message(request, slug, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Write a few words first.")
    try:
        followup = followup_start(message=message, reply=form.cleaned_data["text"])
    except SpeakingError as error:
        return render(
            request,
            TEMPLATE + "#refused",
            {"message": str(error), "course": message.enrollment.course},
            status=409,
        )
    context = {
        **message_context(followup),
        "reply": form.cleaned_data["text"],
        "answered_step": followup.step,
    }
    return render(request, TEMPLATE + "#followup", context)


@require_POST
@login_required
def message_rate(request, slug, pk):
    message = _own_message(request, slug, pk)
    form = RateForm(request.POST)
    if not form.is_valid() or message.status != TutorMessage.Status.DONE:
        return HttpResponseBadRequest("Choose one of the ratings.")
    TutorMessage.objects.filter(pk=message.pk).update(
        rating=form.cleaned_data["rating"], rated_at=timezone.now()
    )
    message.refresh_from_db()
    return _message_response(request, message)


@require_POST
@login_required
def explain(request, slug):
    """'Explain another way' on a new concept's material, at the level the learner chose."""
    enrollment = enrollment_of_learner_or_404(user=request.user, slug=slug)
    step = current_step(enrollment=enrollment)
    form = ExplainForm(request.POST)
    if step is None or not form.is_valid():
        return HttpResponseBadRequest("There is no concept to explain right now.")
    try:
        message = explain_start(enrollment=enrollment, step=step, level=form.cleaned_data["level"])
    except SpeakingError as error:
        return HttpResponseBadRequest(str(error))
    return _message_response(request, message)


def chat_context(enrollment: Enrollment) -> dict:
    messages = list(
        TutorMessage.objects.filter(enrollment=enrollment, moment=TutorMessage.Moment.CHAT)
        .select_related("concept")
        .order_by("-id")[:6]
    )[::-1]
    return {
        "course": enrollment.course,
        "chat_messages": [message_context(m) for m in messages],
        "shares_questions": enrollment.user.shares_questions,
    }


@require_GET
@login_required
def chat_panel(request, slug):
    return render(
        request, TEMPLATE + "#chat", chat_context(enrollment_of_learner_or_404(user=request.user, slug=slug))
    )


@require_POST
@login_required
def chat_ask(request, slug):
    """A question for the tutor about the current concept; the reply streams into the panel."""
    enrollment = enrollment_of_learner_or_404(user=request.user, slug=slug)
    form = QuestionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = f"Type your question first (at most {settings.RAMP_TUTOR_QUESTION_CHARS} characters)."
    else:
        step = current_step(enrollment=enrollment)
        concept = step.concept if step else enrollment.course.concepts.order_by("position").first()
        try:
            chat_start(
                enrollment=enrollment, step=step, concept=concept, question=form.cleaned_data["question"]
            )
        except SpeakingError as problem:
            error = str(problem)
    return render(
        request,
        TEMPLATE + "#chat",
        {**chat_context(enrollment), "chat_error": error},
        status=400 if error else 200,
    )


@require_POST
@login_required
def chat_forget(request, slug, pk):
    """The learner deletes one of their questions (and the tutor's reply to it)."""
    message = _own_message(request, slug, pk)
    if message.moment != TutorMessage.Moment.CHAT:
        raise Http404("No such question.")
    message.delete()
    return render(request, TEMPLATE + "#chat", chat_context(message.enrollment))


@require_POST
@login_required
def chat_consent(request, slug):
    """Whether this learner's questions are kept (without their name) for the course's authors
    and the tutor's next training."""
    enrollment = enrollment_of_learner_or_404(user=request.user, slug=slug)
    form = ConsentForm(request.POST)
    form.is_valid()
    user_set_shares_questions(user=request.user, shares=form.cleaned_data.get("shares", False))
    enrollment.user.refresh_from_db()
    return render(request, TEMPLATE + "#chat", chat_context(enrollment))


def course_or_404(slug: str) -> Course:
    course = courses_published().filter(slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    return course
