"""The dialogue format SFT and evaluation consume, and how a dialogue becomes tokens.

One JSON object per line (full description in docs/models.md):

    {"id": "mathdial-6000025",            # unique, stable
     "task": "respond_to_mistake",        # one of TASKS
     "course": "mathdial", "concept": "word-problems", "split": "train",   # or "heldout"
     "messages": [{"role": "system", "content": "..."},
                  {"role": "learner", "content": "..."},
                  {"role": "tutor", "content": "..."}],
     "meta": {"answer": "10", "misconception": "...", "probe_terms": ["..."], "source": "...",
              "licence": "...", "eval_turn": 3}}

Rendered as  <|bos|> (<|role|> content <|end|>)*  with the loss only on tutor
content and the tutor's <|end|>. In a practice_question tutor turn the content
"<|question|> text <|answer|> text" keeps the two markers as special tokens;
everywhere else marker-like text is ordinary text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

ROLES = ("system", "learner", "tutor")
TASKS = ("chat", "explain", "hint", "respond_to_mistake", "practice_question")
SPLITS = ("train", "heldout")
QUESTION, ANSWER = "<|question|>", "<|answer|>"
CALC, CALC_END, RESULT, RESULT_END = "<|calc|>", "<|calc_end|>", "<|result|>", "<|result_end|>"
# the markers a practice-question turn may hold (only there: anywhere else they are text)
_STRUCTURE = re.compile(
    "(" + "|".join(re.escape(m) for m in (QUESTION, ANSWER, CALC, CALC_END, RESULT, RESULT_END)) + ")"
)


class DialogueError(ValueError):
    pass


def validate(d: dict) -> dict:
    """Raise DialogueError naming the first problem; return d unchanged when it is fine."""
    where = d.get("id", "<no id>")
    for key in ("id", "task", "messages"):
        if key not in d:
            raise DialogueError(f"{where}: missing field {key!r}")
    if d["task"] not in TASKS:
        raise DialogueError(f"{where}: task {d['task']!r} not in {TASKS}")
    if d.get("split", "train") not in SPLITS:
        raise DialogueError(f"{where}: split {d['split']!r} not in {SPLITS}")
    msgs = d["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise DialogueError(f"{where}: messages must be a non-empty list")
    for i, m in enumerate(msgs):
        if m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise DialogueError(f"{where}: message {i} needs role in {ROLES} and string content")
        if m["role"] == "system" and i != 0:
            raise DialogueError(f"{where}: only the first message may be a system message")
    if not any(m["role"] == "tutor" for m in msgs):
        raise DialogueError(f"{where}: no tutor turn to learn from")
    return d


def load_dialogues(paths: Iterable[str | Path]) -> list[dict]:
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        out.append(validate(json.loads(line)))
                    except json.JSONDecodeError as e:
                        raise DialogueError(f"{path}:{n}: not JSON ({e})") from None
    return out


def save_dialogues(dialogues: Iterable[dict], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for d in dialogues:
            f.write(json.dumps(validate(d), ensure_ascii=False, sort_keys=True) + "\n")


def encode_content(tok, role: str, task: str, content: str) -> list[int]:
    """One message's text as ids: in a tutor's practice-question turn the structure markers
    (question, answer, calculator) become their special tokens; anywhere else all is text."""
    if role == "tutor" and task == "practice_question" and QUESTION in content:
        ids: list[int] = []
        for piece in _STRUCTURE.split(content):
            if piece in tok.special_ids and _STRUCTURE.fullmatch(piece):
                ids.append(tok.special(piece))
            elif piece:
                ids += tok.encode(piece)
        return ids
    return tok.encode(content)


def _mask_tool_output(tok, ids: list[int], mask: list[int]) -> None:
    """Tool output (<|result|> … <|result_end|>) is inserted by the engine, not written by
    the model: no training target."""
    start, end = tok.special_ids.get(RESULT), tok.special_ids.get(RESULT_END)
    if start is None:
        return
    inside = False
    for i, t in enumerate(ids):
        if t == start:
            inside = True
        if inside:
            mask[i] = 0
        if t == end:
            inside = False


def render(tok, d: dict, upto: int | None = None) -> tuple[list[int], list[int]]:
    """Dialogue -> (ids, mask): mask[i] = 1 where ids[i] is a tutor token to learn.

    With upto=k only messages[:k] are rendered, followed by an open <|tutor|>:
    the prompt from which the model writes message k.
    """
    msgs = d["messages"] if upto is None else d["messages"][:upto]
    ids, mask = [tok.special("<|bos|>")], [0]
    for m in msgs:
        body = encode_content(tok, m["role"], d["task"], m["content"]) + [tok.special("<|end|>")]
        ids.append(tok.special(f"<|{m['role']}|>"))
        mask.append(0)
        ids += body
        mask += [1 if m["role"] == "tutor" else 0] * len(body)
    if upto is not None:
        ids.append(tok.special("<|tutor|>"))
        mask.append(0)
    _mask_tool_output(tok, ids, mask)
    return ids, mask


def as_text(d: dict) -> str:
    """Plain text of a dialogue, for tokenizer training and pretraining corpora."""
    return "\n".join(m["content"] for m in d["messages"])


def eval_turn(d: dict) -> int:
    """Index of the tutor message evaluation regenerates: meta.eval_turn, else the last tutor turn."""
    k = d.get("meta", {}).get("eval_turn")
    if k is None:
        k = max(i for i, m in enumerate(d["messages"]) if m["role"] == "tutor")
    return k


def _unit(seed: int, key: str) -> float:
    h = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def split_dialogues(
    dialogues: Iterable[dict],
    heldout_concepts: Iterable[str] = (),
    heldout_courses: Iterable[str] = (),
    heldout_fraction: float = 0.0,
    seed: int = 0,
) -> tuple[list[dict], list[dict]]:
    """(train, heldout), deterministic from seed and each dialogue's id.

    A dialogue of a held-out concept or course is always held out, so no train
    dialogue ever shares one with them. Of the rest, a pseudo-random
    heldout_fraction (by hash of seed and id, so order does not matter) is held
    out too. The input's own `split` field is ignored: this is the helper that
    decides it.
    """
    hc, hk = set(heldout_concepts), set(heldout_courses)
    train, held = [], []
    for d in dialogues:
        if d.get("concept") in hc or d.get("course") in hk or _unit(seed, d["id"]) < heldout_fraction:
            held.append(d)
        else:
            train.append(d)
    return train, held


def by_split(dialogues: Iterable[dict], split: str) -> list[dict]:
    return [d for d in dialogues if d.get("split", "train") == split]
