"""The active tutor model, loaded once per process and switched when an admin promotes another.

    from models_train.serving import active_tutor
    tutor = active_tutor()              # None when no version is active (or it can't be loaded)
    for text, done in tutor.reply(dialogue, max_tokens=64):
        ...                             # text as it is written; done once the turn has ended

Composed decoding (``RAMP_TUTOR_COMPOSED_DECODING``, on by default; ``models_train.composing``):
the model writes its reply out of whole pieces - sentences of the authored candidates in its
prompt (the probe, the hint, the material), the learner's own words, fragments of the tutor's
phrases (``models_train.factory.phrasing``) - choosing which, in what order and when to stop.
It cannot garble a sentence or invent a number or a term (measured in docs/models.md, with and
without).

A process keeps the loaded model while the active version stays the same: each call compares
the active version's id (one indexed query) with the loaded one and loads the new checkpoint
when they differ, so a promotion or rollback reaches every worker without a restart. Decoding
runs on int8 weights with one CPU thread (several are not faster at batch 1 on this model
size, and they would take cores from the web processes).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import torch
from django.conf import settings
from django.utils.module_loading import import_string

from models_train.checkpoint import CheckpointError, load_tutor
from models_train.composing import Composer, pieces_of
from models_train.dialogue import render
from models_train.engine import Engine
from models_train.factory import phrasing
from models_train.models import ModelVersion
from models_train.moments import candidates_of

log = logging.getLogger(__name__)


_CHOICE_LINE = re.compile(r"^[A-Z]\) (.*)$", re.M)


def answer_form(system: str, answer: str) -> str:
    """What the learner's answer is, as the prompt shows it: "order" (lines), "choice" (one of
    the problem's lettered choices) or "value"."""
    if "\n" in answer.strip():
        return "order"
    if answer.strip() in {c.strip() for c in _CHOICE_LINE.findall(system)}:
        return "choice"
    return "value"


class TutorModel:
    """A checkpoint ready to speak: the model, its tokenizer and a decoding engine."""

    def __init__(self, path: str | Path, *, name: str = "", int8: bool = True, composed: bool | None = None):
        """``composed``: composed decoding (default: the RAMP_TUTOR_COMPOSED_DECODING setting)."""
        self.path = str(path)
        self.composed = settings.RAMP_TUTOR_COMPOSED_DECODING if composed is None else composed
        self.name = name or Path(path).name
        model, self.tok, self.meta = load_tutor(path)
        self.engine = Engine(model, int8=int8)
        self.context = 2 * model.config.sequence_len
        self.end = self.tok.special("<|end|>")

    def composer(self, dialogue: dict, budget: int) -> Composer:
        """Composed decoding for the reply after ``dialogue``: sentences of its authored
        candidates, and the tutor's phrases for the task (worded for the learner's kind of
        answer) with the learner's answer ({a}) and the next hint ({hint}) filled in."""
        first = dialogue["messages"][0]
        system = first["content"] if first["role"] == "system" else ""
        candidates = candidates_of(system)
        said = [m["content"].strip() for m in dialogue["messages"] if m["role"] == "learner"][-1:]
        form = answer_form(system, said[0] if said else "")
        answer = [said[0].split("\n")[0]] if said else []  # an order: its first line
        fills = {"a": answer, "hint": [text for label, text in candidates if label == "Hint"]}
        phrases = phrasing.tutor_phrases(dialogue.get("task", ""), form)
        pieces = pieces_of(candidates, phrases, fills)
        return Composer(self.tok, pieces, end=self.end, budget=budget)

    def prompt_ids(self, dialogue: dict) -> list[int]:
        ids, _ = render(self.tok, dialogue, upto=len(dialogue["messages"]))
        return ids

    def reply(
        self,
        dialogue: dict,
        *,
        max_tokens: int = 64,
        seed: int = 0,
        temperature: float = 0.0,
        composed: bool | None = None,
    ) -> Iterator[tuple[str, bool]]:
        """The tutor's turn after ``dialogue``, as (new text, False) pieces while it is written,
        then ("", True) if the model closed its turn (nothing more when it ran out of tokens).
        Greedy by default: the same prompt gets the same words. ``composed``: composed decoding
        (default: the model's)."""
        if composed is None:
            composed = self.composed
        prompt = self.prompt_ids(dialogue)
        room = self.context - len(prompt)
        if room < 8:
            raise ValueError(f"the prompt takes {len(prompt)} of the model's {self.context} tokens")
        ids: list[int] = []
        text = ""
        for token in self.engine.stream(
            prompt,
            max_tokens=min(max_tokens, room),
            temperature=temperature,
            seed=seed,
            stop=[self.end],
            constraint=self.composer(dialogue, min(max_tokens, room)) if composed else None,
        ):
            if token == self.end:
                yield "", True
                return
            ids.append(token)
            decoded = self.tok.decode(ids)
            # a character split over byte tokens decodes as U+FFFD until its last byte arrives
            if decoded.endswith("\ufffd"):
                continue
            yield decoded[len(text) :], False
            text = decoded


_lock = threading.Lock()
_loaded: dict[str, object] = {"version": None, "model": None}


def active_tutor() -> TutorModel | None:
    """The active version's model, loaded on first use and reloaded after a promotion."""
    version = (
        ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
        .values("id", "name", "checkpoint_path")
        .first()
    )
    with _lock:
        if version is None:
            _loaded.update(version=None, model=None)
            return None
        if _loaded["version"] != version["id"]:
            torch.set_num_threads(1)
            loader = import_string(settings.RAMP_TUTOR_MODEL_LOADER)
            try:
                model = loader(version["checkpoint_path"], name=version["name"])
            except (CheckpointError, OSError) as error:
                log.error("tutor model %s could not be loaded: %s", version["name"], error)
                _loaded.update(version=version["id"], model=None)
                return None
            _loaded.update(version=version["id"], model=model)
            log.info("tutor model %s loaded from %s", version["name"], version["checkpoint_path"])
        return _loaded["model"]


def active_version_id() -> int | None:
    """The id of the version active_tutor() last loaded (None: none)."""
    return _loaded["version"]
