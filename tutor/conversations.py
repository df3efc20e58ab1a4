"""Learners' conversations with the tutor as a data source for the next training.

Only from learners who share their questions and conversations (``User.shares_questions``,
read at export time, so withdrawing consent takes them out of the next export), without names
or ids. Each finished message becomes one dialogue in the training format
(``models_train.dialogue``): the prompt the model was given and the words the learner read
(the model's, or the authored text it was replaced with); replies a learner rated "not
helpful" or "gave away the answer" are left out. The default training reads every
``*.jsonl`` in ``RAMP_MODEL_STORE/conversations/``.

    python manage.py export_conversations              # -> RAMP_MODEL_STORE/conversations/learners.jsonl
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from models_train.dialogue import save_dialogues
from models_train.moments import prompt_dialogue
from tutor.models import TutorMessage
from tutor.speaking import situation_from_json

LEFT_OUT = (TutorMessage.Rating.NOT_HELPFUL, TutorMessage.Rating.GAVE_AWAY)


def default_path() -> Path:
    return Path(settings.RAMP_MODEL_STORE) / "conversations" / "learners.jsonl"


def shared_dialogues() -> list[dict]:
    messages = (
        TutorMessage.objects.filter(status=TutorMessage.Status.DONE, enrollment__user__shares_questions=True)
        .exclude(rating__in=LEFT_OUT)
        .exclude(text="")
        .select_related("enrollment__course", "concept")
        .order_by("id")
    )
    out = []
    for message in messages:
        d = prompt_dialogue(
            message.moment,
            situation_from_json(message.situation),
            course_slug=message.enrollment.course.slug,
            concept_slug=message.concept.slug,
        )
        d["messages"].append({"role": "tutor", "content": message.text})
        d["id"] = (
            "learners-" + hashlib.sha256(f"{settings.SECRET_KEY}:{message.pk}".encode()).hexdigest()[:16]
        )
        d["meta"].update(source="learners", served_by=message.source)
        out.append(d)
    return out


def conversations_export(*, path: str | Path | None = None) -> tuple[Path, int]:
    """Write the shared conversations (replacing the last export); (path, dialogues)."""
    path = Path(path) if path else default_path()
    dialogues = shared_dialogues()
    save_dialogues(dialogues, path)
    return path, len(dialogues)
