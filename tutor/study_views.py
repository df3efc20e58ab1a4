"""The learner's study loop pages. Thin: tutor.study does the work."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from courses.html import markdown_html
from courses.models import Course
from courses.selectors import courses_published
from learner.models import Enrollment, Step
from tutor.models import TutorMessage
from tutor.speaking import SpeakingError, hint_start, mistake_reply_start
from tutor.speaking_views import chat_context, message_context
from tutor.study import (
    NotEnrolled,
    StepMismatch,
    answer_submit,
    current_step,
    enrollment_of,
    hint_reveal,
    placement_start_for_concept,
    placement_summary,
    study_continue,
    study_start,
    variant_for,
)


class StepForm(forms.Form):
    step = forms.IntegerField(min_value=1)


class AnswerForm(StepForm):
    answer = forms.CharField(required=False, max_length=5000, strip=False)
    dont_know = forms.BooleanField(required=False)
    time_taken_ms = forms.IntegerField(required=False, min_value=0, max_value=24 * 3600 * 1000)


def _bad_request(request, course, form):
    """A form that doesn't parse: 400, saying which field."""
    field, errors = next(iter(form.errors.items()))
    message = f"The request was incomplete ({field}: {errors[0]})." if field != "__all__" else errors[0]
    return render(request, "tutor/study.html#refused", {"message": message, "course": course}, status=400)


def _course(slug: str) -> Course:
    course = courses_published().filter(slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    return course


# what each figure behind a step's reason means, for the curious learner
NUMBER_LABELS = {
    "p_mastered": "how sure Ramp is that you have mastered this concept",
    "mastered_at": "how sure it must be to count it as mastered",
    "predicted_success": "Ramp's estimate of your chance to get this question right",
    "target": "the chance of success practice aims at (hard enough to learn from)",
    "recall_probability": "Ramp's estimate of the chance you still remember it",
}


def step_context(step: Step | None) -> dict:
    if step is None:
        return {"step": None}
    variant = variant_for(step)
    material = []
    if step.kind == Step.Kind.NEW:
        material = [(m.level, markdown_html(m.text)) for m in step.concept.material.all()]
    # Hints shown up front are the authored ones; each asked for is the tutor's message (a
    # hint asked for counts in hints_shown first: a step with none asked has none to read).
    asked = []
    if step.hints_shown > step.hints_up_front:
        asked = list(TutorMessage.objects.filter(step=step, moment=TutorMessage.Moment.HINT).order_by("id"))
    hints = [{"html": markdown_html(h)} for h in variant.hints[: step.hints_up_front]]
    hints += [message_context(m) for m in asked]
    for index in range(len(hints), step.hints_shown):  # asked before the tutor spoke hints
        hints.append({"html": markdown_html(variant.hints[index])})
    return {
        "step": step,
        "prompt_html": markdown_html(variant.prompt),
        "choices": [(choice, markdown_html(choice)) for choice in variant.choices],
        "hints": hints,
        "more_hints": step.hints_shown < len(variant.hints),
        "material": material,
        "item_type": step.item.type,
        "numbers": [
            (NUMBER_LABELS.get(name, name), f"{value:.0%}")
            for name, value in ((step.details or {}).get("numbers") or {}).items()
        ],
    }


@require_GET
@login_required
def study(request, slug):
    """The learner's current question. Reading it changes nothing: starting the course and
    moving on are POSTs."""
    course = _course(slug)
    enrollment = enrollment_of(user=request.user, course=course)
    if enrollment is None:
        return render(request, "tutor/study.html", {"course": course, "not_started": True})
    step = current_step(enrollment=enrollment)
    context = {"course": course, "enrollment": enrollment, **step_context(step), **chat_context(enrollment)}
    return render(request, "tutor/study.html", context)


@require_POST
@login_required
def start(request, slug):
    """Start the course: placement's first question."""
    course = _course(slug)
    study_start(user=request.user, course=course)
    return redirect("study", slug=course.slug)


@require_POST
@login_required
def continue_(request, slug):
    """The next thing to study (a review come due, or the question after a tutor's reply)."""
    course = _course(slug)
    try:
        step = study_continue(user=request.user, course=course)
    except NotEnrolled as error:
        raise Http404(str(error)) from None
    if request.htmx:
        return render(request, "tutor/study.html#step", {"course": course, **step_context(step)})
    return redirect("study", slug=course.slug)


@require_POST
@login_required
def answer(request, slug):
    course = _course(slug)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, course, form)
    data = form.cleaned_data
    # an ordering's lines arrive one hidden input each, in the order the learner left them
    order = request.POST.getlist("order")
    try:
        outcome = answer_submit(
            user=request.user,
            course=course,
            step_id=data["step"],
            answer="\n".join(order) if order else data["answer"] or "",
            dont_know=data["dont_know"],
            time_taken_ms=data["time_taken_ms"],
        )
    except NotEnrolled as error:
        raise Http404(str(error)) from None
    except StepMismatch as error:
        if request.htmx:
            return render(
                request, "tutor/study.html#refused", {"message": str(error), "course": course}, status=409
            )
        messages.error(request, str(error))
        return redirect("study", slug=course.slug)
    tutor_reply = None
    response = outcome.response
    if response is not None and response.kind != Step.Kind.PLACEMENT and response.outcome == "incorrect":
        tutor_reply = mistake_reply_start(
            enrollment=response.enrollment,
            step=response.step,
            variant=outcome.variant,
            answer=response.answer,
            misconception=outcome.misconception,
        )
    shows_solution = response is not None and (
        response.correct or (response.outcome == "dont_know" and response.kind != Step.Kind.PLACEMENT)
    )
    placement_done = (
        response is not None
        and response.kind == Step.Kind.PLACEMENT
        and (outcome.next_step is None or outcome.next_step.kind != Step.Kind.PLACEMENT)
    )
    context = {
        "course": course,
        "outcome": outcome,
        "placement": placement_summary(enrollment=response.enrollment) if placement_done else {},
        "answered_step": response.step if response else None,
        "solution_html": markdown_html(outcome.variant.solution) if shows_solution else None,
        "tutor_reply": message_context(tutor_reply) if tutor_reply else None,
        **step_context(outcome.next_step),
    }
    if request.htmx:
        return render(request, "tutor/study.html#exchange", context)
    return render(request, "tutor/study.html", context)


@require_POST
@login_required
def hint(request, slug):
    """One more hint, in the tutor's words (the authored hint when the model's aren't shown)."""
    course = _course(slug)
    form = StepForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, course, form)
    try:
        step = hint_reveal(user=request.user, course=course, step_id=form.cleaned_data["step"])
        hint_start(enrollment=step.enrollment, step=step, index=step.hints_shown - 1)
    except NotEnrolled as error:
        raise Http404(str(error)) from None
    except (StepMismatch, SpeakingError) as error:
        return render(
            request, "tutor/study.html#refused", {"message": str(error), "course": course}, status=409
        )
    context = {"course": course, **step_context(step)}
    if request.htmx:
        return render(request, "tutor/study.html#hints", context)
    return redirect("study", slug=course.slug)


@require_GET
@login_required
def step_fragment(request, slug):
    """The learner's current question, for "Next question" after the tutor's reply (read only)."""
    course = _course(slug)
    enrollment = enrollment_of(user=request.user, course=course)
    if enrollment is None:
        raise Http404("You haven't started this course yet.")
    return render(
        request,
        "tutor/study.html#step",
        {"course": course, **step_context(current_step(enrollment=enrollment))},
    )


@require_POST
@login_required
def solution(request, slug):
    """The worked solution of a step the learner has already answered (never before)."""
    course = _course(slug)
    form = StepForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, course, form)
    step = Step.objects.filter(
        pk=form.cleaned_data["step"], enrollment__user=request.user, enrollment__course=course
    ).first()
    if step is None:
        raise Http404("No such question of yours.")
    if step.answered_at is None:
        return render(
            request,
            "tutor/study.html#refused",
            {"message": "Have a go first: the worked solution comes after your answer.", "course": course},
            status=409,
        )
    Step.objects.filter(pk=step.pk).update(solution_shown=True)
    return render(
        request,
        "tutor/study.html#solution",
        {"solution_html": markdown_html(variant_for(step).solution), "answered_step": step, "course": course},
    )


@require_POST
@login_required
def already_know(request, slug, concept):
    """ "I already know this" on the knowledge map: a few placement questions on the concept
    and what it builds on, then back to studying."""
    enrollment = (
        Enrollment.objects.select_related("course")
        .filter(user=request.user, course__slug=slug, course__in=courses_published())
        .first()
    )
    if enrollment is None:
        raise Http404("You have not started this course yet.")
    target = enrollment.course.concepts.filter(slug=concept, retired_at__isnull=True).first()
    if target is None:
        raise Http404("No such concept.")
    placement_start_for_concept(user=request.user, course=enrollment.course, concept=target)
    messages.info(
        request, f"A few quick questions on “{target.title}” and what it builds on will update your map."
    )
    return redirect("study", slug=slug)
