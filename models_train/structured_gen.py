"""Practice questions written inside their format: the model chooses, the schema constrains.

    from models_train.structured_gen import TemplateSchema, write_practice
    schema = [TemplateSchema("fractions/add", (("a", (1, 2, 3)), ("b", (2, 3, 4))))]
    text = write_practice(model, tok, prompt_ids, schema, question_for=lambda ref, params: "...")

A practice-question turn is ``ITEM: {"item": ref, "params": {...}}`` then
``<|question|> q <|answer|> a`` (the format of `models_train.factory.structured`). Written
freely, a small tutor has to copy a long template reference exactly, keep every param in
its range and restate the question word for word before it gets to the one part that is
really its job: the answer. Grammar-constrained decoding, as structured-output systems do,
keeps the choices the model's and the format the schema's:

1. the template: every allowed reference is scored by the log-likelihood the model gives
   the ITEM line's opening with it, and the best (or, with ``temperature`` > 0, a sample)
   is taken;
2. each param in turn: its allowed values (a range's values, at most ``MAX_VALUES`` spread
   evenly over it; a choice param's choices), scored the same way after what came before;
3. ``question_for(ref, params)`` - the caller's, e.g. the course's own variant code - says
   whether the values satisfy the template's constraints and gives the question text; if
   not, other combinations are sampled (``tries``);
4. the question is that text, so it is exactly what the course would show;
5. a multiple-choice question's answer is one of its choices, the one the model scores
   highest as the whole answer; any other answer is the model's own continuation after
   ``<|answer|>`` until ``<|end|>``, with
   the calculator tool when ``calc`` is given (the model writes the expression, the tool
   computes it; inside the format the stated answer then starts with the tool's result, as
   every training example states it, and the model may add a unit): what the course's
   checker then judges.

Plain torch and data: nothing here imports Django or the courses app.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .dialogue import ANSWER, QUESTION, encode_content
from .engine import Calculator, Engine

ITEM_PREFIX = "ITEM:"
MAX_VALUES = 24  # values of a range param scored per step (spread evenly over the range)


def item_line(ref: str, params: dict) -> str:
    """The ITEM line of a practice question (compact JSON, params in template order)."""
    line = json.dumps({"item": ref, "params": params}, ensure_ascii=False, separators=(", ", ": "))
    return f"{ITEM_PREFIX} {line}"


def practice_text(ref: str, params: dict, question: str, answer: str) -> str:
    return f"{item_line(ref, params)}\n{QUESTION} {question} {ANSWER} {answer}"


@dataclass(frozen=True)
class TemplateSchema:
    """What may be written for one template: its reference and, per param in order, the
    allowed values (ints for ranges, strings for text choices)."""

    ref: str
    params: tuple[tuple[str, tuple], ...]


def spread(values: Sequence, k: int = MAX_VALUES) -> list:
    """At most k values, evenly spread and in order (all of them when there are few)."""
    values = list(values)
    if len(values) <= k:
        return values
    return [values[round(i * (len(values) - 1) / (k - 1))] for i in range(k)]


@torch.inference_mode()
def score_texts(
    model, tok, prompt: list[int], texts: Sequence[str], batch: int = 16, suffix: Sequence[int] = ()
) -> list[float]:
    """log P(text | prompt) under the model for each text (its tokens after the prompt), and of
    ``suffix`` after it when given (e.g. ``<|end|>``: the text is the whole rest)."""
    device = next(model.parameters()).device
    pad = tok.special("<|pad|>")
    limit = 2 * model.config.sequence_len
    out: list[float] = []
    for start in range(0, len(texts), batch):
        encoded = [tok.encode(t) + list(suffix) for t in texts[start : start + batch]]
        rows = [(prompt + e)[-limit - 1 :] for e in encoded]  # the most recent context if long
        T = max(len(r) for r in rows) - 1
        x = torch.full((len(rows), T), pad, dtype=torch.long)
        y = torch.full((len(rows), T), -1, dtype=torch.long)
        for i, (r, e) in enumerate(zip(rows, encoded)):
            n = len(r) - 1
            x[i, :n] = torch.tensor(r[:-1])
            first = n - len(e)  # the target slot of the text's first token
            y[i, first:n] = torch.tensor(r[first + 1 :])
        losses = model(x.to(device), targets=y.to(device), reduction="none").view(len(rows), T)
        out += (-losses.float().sum(dim=1)).tolist()
    return out


def _pick(scores: list[float], temperature: float, rng: random.Random) -> int:
    if temperature <= 0:
        return max(range(len(scores)), key=lambda i: scores[i])
    m = max(scores)
    weights = [math.exp((s - m) / temperature) for s in scores]
    return rng.choices(range(len(scores)), weights=weights)[0]


def choose_item(
    model,
    tok,
    prompt: list[int],
    schema: Sequence[TemplateSchema],
    *,
    temperature: float = 0.0,
    rng: random.Random | None = None,
) -> tuple[str, dict]:
    """(ref, params) chosen by the model inside the schema (steps 1-2 of the module doc)."""
    rng = rng or random.Random(0)
    heads = [item_line(s.ref, {})[:-2] for s in schema]  # `ITEM: {"item": ref, "params": {`, open
    k = _pick(score_texts(model, tok, prompt, heads), temperature, rng)
    chosen = schema[k]
    params: dict = {}
    for name, allowed in chosen.params:
        values = spread(allowed)
        texts = [item_line(chosen.ref, {**params, name: v})[:-2] for v in values]  # open: more may follow
        params[name] = values[_pick(score_texts(model, tok, prompt, texts), temperature, rng)]
    return chosen.ref, params


def write_practice(
    model,
    tok,
    prompt: list[int],
    schema: Sequence[TemplateSchema],
    question_for: Callable[[str, dict], str | None],
    *,
    temperature: float = 0.0,
    seed: int = 0,
    tries: int = 8,
    max_answer_tokens: int = 48,
    calc: Callable[[str, str], str] | None = None,
    choices_for: Callable[[str, dict], Sequence[str] | None] | None = None,
) -> str | None:
    """A practice question in the format, or None when no allowed combination satisfying
    the constraints was found in ``tries`` (the first try greedy when temperature is 0).
    ``choices_for(ref, params)``: a multiple-choice question's choices; its answer is then
    the choice the model scores highest as the whole answer (sampled with temperature)."""
    if not schema:
        return None
    rng = random.Random(seed)
    for attempt in range(tries):
        ref, params = choose_item(
            model,
            tok,
            prompt,
            schema,
            temperature=temperature if attempt == 0 else max(temperature, 1.0),
            rng=rng,
        )
        question = question_for(ref, params)
        if question is not None:
            break
    else:
        return None
    # the turn so far, tokenised as training tokenised it, up to and including <|answer|>
    turn = f"{item_line(ref, params)}\n{QUESTION} {question} {ANSWER}"
    ids = prompt + encode_content(tok, "tutor", "practice_question", turn)
    choices = choices_for(ref, params) if choices_for is not None else None
    if choices:
        scores = score_texts(model, tok, ids, [" " + c for c in choices], suffix=[tok.special("<|end|>")])
        return practice_text(ref, params, question, choices[_pick(scores, temperature, rng)])
    limit = 2 * model.config.sequence_len - max_answer_tokens
    answer_ids = Engine(model).generate(
        ids[-limit:],
        max_tokens=max_answer_tokens,
        temperature=temperature,
        seed=seed,
        stop=[tok.special("<|end|>")],
        calc=calculator(tok, calc, echo=True),
    )[0]
    return practice_text(ref, params, question, tok.decode(answer_ids).strip())


def calculator(tok, fn: Callable[[str, str], str] | None, echo: bool = False) -> Calculator | None:
    """The engine's calculator for ``fn`` (see `engine.Calculator`, ``echo`` included), if the
    tokenizer has the tool's markers (tokenizers trained before 2026-11-28 don't)."""
    if fn is None or "<|calc|>" not in tok.special_ids:
        return None
    return Calculator(tok, fn, echo=echo)
