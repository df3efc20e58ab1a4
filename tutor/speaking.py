"""The tutor model speaking in the study loop: a message per moment, written off the request.

The learner never waits on the model. A page that needs the tutor to speak creates a
:class:`~tutor.models.TutorMessage` with the authored fallback already decided, and returns at
once. When a model version is active and the tutor queue is not full, a task on the ``tutor``
queue asks the model (``models_train.speaking.speak``: the prompt, the guards) and writes the
text that passed the guards into the row as it is written; the page streams it from there
(``tutor.speaking_views``). No model, a full queue, a refusal, an error, or a reply not ready
within its time budget all end the same way: the row shows the authored text, and says why.

    message = mistake_reply_start(enrollment=e, step=answered_step, variant=v, answer="5/4",
                                  misconception=matched)
    # ... a `tutor` worker runs tutor_message_speak(message_id=message.pk)

Why a worker process and not a thread of the web process: decoding is CPU work that holds the
GIL between tensor operations, so in-process threads would slow every page the process
serves; a separate worker process (run at a lower CPU priority by ``make run``) leaves the web
processes their share of the cores, and the ``tutor`` queue is bounded by
``RAMP_TUTOR_MAX_PENDING`` so a burst falls back instead of piling up.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.publishing import publish_after_commit
from courses.models import Concept, Course
from courses.variants import RenderedMisconception, Variant
from learner.graph_from_db import course_graph_for
from learner.models import ConceptState, Enrollment, Response, Step
from models_train.api import active_model_version
from models_train.guards import REASONS, domain_vocabulary
from models_train.moments import Situation
from models_train.speaking import (
    Moment,
    chat_moment,
    explain_moment,
    followup_moment,
    hint_moment,
    mistake_moment,
    speak,
)
from tutor.models import TutorMessage
from tutor.study import variant_for

log = logging.getLogger(__name__)

TASK = "tutor.tasks.tutor_message_speak"
# how often the worker writes the growing text and asks whether to stop (seconds)
WRITE_EVERY = 0.05


class SpeakingError(ValueError):
    """A request the tutor can't serve (no such hint, no material): nothing was created."""


# --- what the tutor knows about the learner ----------------------------------------------------


_vocabulary_cache: dict = {"key": None, "value": {}}


def vocabulary() -> dict[str, str]:
    """Domain term -> 'course/concept' over every published course (titles and introduced
    terms); rebuilt when any course changes."""
    courses = Course.objects.filter(status=Course.Status.PUBLISHED)
    key = tuple(courses.aggregate(latest=Max("updated_at")).values()) + (courses.count(),)
    if _vocabulary_cache["key"] != key:
        rows = (
            Concept.objects.filter(course__in=courses, retired_at__isnull=True)
            .order_by("course_id", "position")
            .values_list("course__slug", "slug", "title", "introduces")
        )
        _vocabulary_cache.update(
            key=key,
            value=domain_vocabulary([(c, s, [title, *(terms or [])]) for c, s, title, terms in rows]),
        )
    return _vocabulary_cache["value"]


def reached_concepts(
    *, enrollment: Enrollment, concept: Concept, prerequisites_only: bool = False
) -> frozenset[str]:
    """'course/concept' of what this learner has reached: every concept with evidence, the one
    at hand and everything it builds on. ``prerequisites_only``: the concept and what it builds
    on, nothing else (an explanation of a concept follows the ramp's forward-reference rule)."""
    course = enrollment.course.slug
    slugs = {concept.slug}
    if not prerequisites_only:
        with_evidence = ConceptState.objects.filter(enrollment=enrollment).exclude(
            source=ConceptState.Source.NONE
        )
        slugs |= set(with_evidence.values_list("concept__slug", flat=True))
    graph = course_graph_for(enrollment.course)
    if concept.slug in graph.index:
        slugs |= set(graph.ancestors(concept.slug))
    return frozenset(f"{course}/{slug}" for slug in slugs)


# --- starting a message -----------------------------------------------------------------------


def _situation_json(situation: Situation) -> dict:
    return dataclasses.asdict(situation)


def situation_from_json(data: dict) -> Situation:
    return Situation(
        **{
            **data,
            "candidates": tuple(tuple(c) for c in data.get("candidates", ())),
            "said": tuple(tuple(t) for t in data.get("said", ())),
            "recent": tuple(data.get("recent", ())),
        }
    )


def _finish_authored(message: TutorMessage, reason: str, detail: str = "") -> TutorMessage:
    """End ``message`` with its authored fallback, unless it has already ended."""
    now = timezone.now()
    done = (
        TutorMessage.objects.filter(pk=message.pk)
        .exclude(status=TutorMessage.Status.DONE)
        .update(
            status=TutorMessage.Status.DONE,
            source=TutorMessage.Source.AUTHORED,
            text=message.fallback,
            refusal=reason,
            refusal_detail=detail[:300],
            finished_at=now,
        )
    )
    if done:
        log.info("tutor message %s: authored text shown (%s: %s)", message.pk, reason, detail)
    message.refresh_from_db()
    return message


def tutor_message_start(
    *,
    enrollment: Enrollment,
    step: Step | None,
    concept: Concept,
    moment: Moment,
    parent: TutorMessage | None = None,
    request: str = "",
) -> TutorMessage:
    """Record what the tutor is about to say and have the model write it, or show the authored
    text at once when no model is active or the tutor queue is full."""
    version = active_model_version()
    with transaction.atomic():
        message = TutorMessage.objects.create(
            enrollment=enrollment,
            step=step,
            concept=concept,
            parent=parent,
            moment=moment.kind,
            model_version=version,
            situation=_situation_json(moment.situation),
            request=request,
            fallback=moment.fallback,
        )
        if version is None:
            return _finish_authored(message, "no_model", "no model version is active")
        window = timezone.now() - timedelta(seconds=settings.RAMP_TUTOR_MESSAGE_SECONDS)
        waiting = TutorMessage.objects.filter(
            status__in=[TutorMessage.Status.PENDING, TutorMessage.Status.STREAMING], created_at__gte=window
        ).count()
        if waiting > settings.RAMP_TUTOR_MAX_PENDING:
            return _finish_authored(message, "busy", f"{waiting - 1} messages were already waiting")
        publish_after_commit(
            TASK,
            args=[message.pk],
            queue="tutor",
            on_broker_down=lambda reason: _finish_authored(message, "error", reason),
        )
    return message


def _names(enrollment: Enrollment, step: Step) -> tuple[str, str]:
    return enrollment.course.title, step.concept.title


def mistake_reply_start(
    *,
    enrollment: Enrollment,
    step: Step,
    variant: Variant,
    answer: str,
    misconception: RenderedMisconception | None,
) -> TutorMessage:
    """After a wrong answer on ``step``: probe the matched misconception, or ask how they got it."""
    course, concept = _names(enrollment, step)
    moment = mistake_moment(
        course=course,
        concept=concept,
        item_type=step.item.type,
        variant=variant,
        answer=answer,
        misconception=misconception,
    )
    return tutor_message_start(enrollment=enrollment, step=step, concept=step.concept, moment=moment)


def followup_start(*, message: TutorMessage, reply: str) -> TutorMessage:
    """The learner answered the tutor's probing question (``message``): the tutor's next turn."""
    reply = reply.strip()
    if not reply:
        raise SpeakingError("Write a few words first: what do you think?")
    if message.moment != TutorMessage.Moment.MISTAKE or message.status != TutorMessage.Status.DONE:
        raise SpeakingError("There is no question of the tutor's to answer here.")
    if message.replies.exists():
        raise SpeakingError("You have already answered this one.")
    step = message.step
    variant = variant_for(step)
    mistake = Moment("mistake", situation_from_json(message.situation), message.fallback, variant.key)
    moment = followup_moment(mistake=mistake, asked=message.text, reply=reply, variant=variant)
    return tutor_message_start(
        enrollment=message.enrollment,
        step=step,
        concept=message.concept,
        moment=moment,
        parent=message,
        request=reply[:2000],
    )


def hint_start(*, enrollment: Enrollment, step: Step, index: int) -> TutorMessage:
    """Hint ``index`` (0-based) of the step's question, in the tutor's words."""
    variant = variant_for(step)
    course, concept = _names(enrollment, step)
    try:
        moment = hint_moment(
            course=course, concept=concept, item_type=step.item.type, variant=variant, shown=index
        )
    except ValueError as error:
        raise SpeakingError(str(error)) from None
    return tutor_message_start(enrollment=enrollment, step=step, concept=step.concept, moment=moment)


def _material(concept: Concept) -> list[tuple[str, str]]:
    return list(concept.material.order_by("position", "id").values_list("level", "text"))


def explain_start(*, enrollment: Enrollment, step: Step, level: str) -> TutorMessage:
    """The concept's material at ``level`` once more, in the tutor's words."""
    course, concept = _names(enrollment, step)
    try:
        moment = explain_moment(
            course=course,
            concept=concept,
            material=_material(step.concept),
            level=level,
            key=variant_for(step).key,
        )
    except ValueError as error:
        raise SpeakingError(str(error)) from None
    return tutor_message_start(enrollment=enrollment, step=step, concept=step.concept, moment=moment)


def chat_start(*, enrollment: Enrollment, step: Step | None, concept: Concept, question: str) -> TutorMessage:
    """The learner's question about ``concept``, answered from its material; never the answer
    to ``step``, their open question."""
    question = " ".join(question.split())
    if not question:
        raise SpeakingError("Type your question first.")
    if len(question) > settings.RAMP_TUTOR_QUESTION_CHARS:
        raise SpeakingError(f"Please keep a question under {settings.RAMP_TUTOR_QUESTION_CHARS} characters.")
    window = timezone.now() - timedelta(seconds=settings.RAMP_TUTOR_CHAT_WINDOW_SECONDS)
    asked = TutorMessage.objects.filter(
        enrollment__user=enrollment.user, moment=TutorMessage.Moment.CHAT, created_at__gte=window
    ).count()
    if asked >= settings.RAMP_TUTOR_CHAT_LIMIT:
        minutes = max(1, settings.RAMP_TUTOR_CHAT_WINDOW_SECONDS // 60)
        raise SpeakingError(
            f"That's {asked} questions in the last {minutes} minutes: give the material a read and "
            "ask again in a little while."
        )
    variant = variant_for(step) if step is not None else None
    latest = (
        Response.objects.filter(enrollment=enrollment, concept=concept).exclude(answer="").order_by("-id")[:3]
    )
    moment = chat_moment(
        course=enrollment.course.title,
        concept=concept.title,
        question=question,
        material=_material(concept),
        problem=variant.prompt if variant is not None else "",
        key=variant.key if variant is not None else None,
        recent=[f"{r.answer} ({'right' if r.correct else 'wrong'})" for r in reversed(latest)],
    )
    return tutor_message_start(
        enrollment=enrollment, step=step, concept=concept, moment=moment, request=question
    )


# --- writing a message (the tutor worker) ---------------------------------------------------------


def _moment_of(message: TutorMessage) -> Moment:
    key = variant_for(message.step).key if message.step_id else None
    return Moment(message.moment, situation_from_json(message.situation), message.fallback, key)


def tutor_message_expire(*, message: TutorMessage) -> TutorMessage:
    """The message's time budget ran out (the page asks): the learner gets the authored text."""
    return _finish_authored(message, "late", f"not ready within {settings.RAMP_TUTOR_MESSAGE_SECONDS} s")


def tutor_message_speak(*, message_id: int) -> TutorMessage:
    """Have the active model write ``message``, streaming what passes the guards into the row."""
    from models_train.serving import active_tutor, active_version_id

    message = TutorMessage.objects.select_related("enrollment__course", "step__item_version", "concept").get(
        pk=message_id
    )
    started = TutorMessage.objects.filter(pk=message.pk, status=TutorMessage.Status.PENDING).update(
        status=TutorMessage.Status.STREAMING
    )
    if not started:
        return message  # already ended (late, or a redelivered task)
    try:
        model = active_tutor()
        moment = _moment_of(message)
        guard_vocabulary = vocabulary()
        reached = reached_concepts(
            enrollment=message.enrollment,
            concept=message.concept,
            prerequisites_only=message.moment == TutorMessage.Moment.EXPLAIN,
        )
    except Exception as error:  # the learner gets the authored text; the reason is logged
        log.exception("tutor message %s could not be prepared", message.pk)
        return _finish_authored(message, "error", f"{type(error).__name__}: {error}")
    if model is None:
        return _finish_authored(message, "no_model", "the active version could not be loaded")
    shown = {"text": "", "written_at": 0.0, "first": None, "checked_at": 0.0, "stop": False}
    rows = TutorMessage.objects.filter(pk=message.pk, status=TutorMessage.Status.STREAMING)

    def on_text(piece: str) -> None:
        shown["text"] += piece
        now = time.monotonic()
        if shown["first"] is None:
            shown["first"] = timezone.now()
            rows.update(text=shown["text"], first_text_at=shown["first"])
            shown["written_at"] = now
        elif now - shown["written_at"] >= WRITE_EVERY:
            rows.update(text=shown["text"])
            shown["written_at"] = now

    def should_stop() -> bool:
        now = time.monotonic()
        if now - shown["checked_at"] >= WRITE_EVERY:
            shown["checked_at"] = now
            shown["stop"] = not rows.exists()  # the page gave up on it (late)
        return shown["stop"]

    outcome = speak(
        model, moment, vocabulary=guard_vocabulary, reached=reached, on_text=on_text, should_stop=should_stop
    )
    version_id = active_version_id()
    finished = rows.update(
        status=TutorMessage.Status.DONE,
        source=TutorMessage.Source.MODEL if outcome.source == "model" else TutorMessage.Source.AUTHORED,
        text=outcome.shown,
        raw=outcome.raw[:4000],
        refusal=outcome.verdict.reason,
        refusal_detail=outcome.verdict.detail[:300],
        first_text_at=shown["first"],
        finished_at=timezone.now(),
        model_version_id=version_id or message.model_version_id,
    )
    if finished and outcome.verdict.refused:
        log.info(
            "tutor message %s: authored text shown (%s: %s)",
            message.pk,
            outcome.verdict.reason,
            outcome.verdict.detail,
        )
    elif not finished:
        # the page had already shown the fallback; keep what the model wrote for review
        TutorMessage.objects.filter(pk=message.pk).update(raw=outcome.raw[:4000])
    message.refresh_from_db()
    return message


def refusal_text(message: TutorMessage) -> str:
    """Why the learner sees the course's authored text, in a learner's words ('' when the
    message is the model's)."""
    if message.source != TutorMessage.Source.AUTHORED:
        return ""
    if message.refusal == "no_model":
        return "The tutor model isn't available right now, so this is the course's own text."
    if message.refusal in ("late", "busy"):
        return "The tutor took too long, so this is the course's own text."
    if message.refusal == "error":
        return "The tutor model failed, so this is the course's own text."
    why = REASONS.get(message.refusal, "a check failed")
    return f"The tutor's own reply didn't pass our checks ({why}), so this is the course's text."
