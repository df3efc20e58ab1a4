"""The machine-readable practice-question format, and rebuilding a variant from its params.

A `practice_question` tutor turn is

    ITEM: {"item": "<concept-slug>/<item-slug>", "params": {"a": 3, "b": 4}}
    <|question|> What is $\\frac{3}{4} + …$? <|answer|> 5/4

The ITEM line comes first (the model picks a template and its parameter values, then writes
the question those values give, then the answer), on one line, as compact JSON with exactly
the keys `item` and `params` (an optional `answer` key is accepted and must then agree with
the stated answer). Range params are integers; choice params are the choice as authored (a
string, or a number when the choice reads as one). `<|question|>`/`<|answer|>` are the
tokenizer's special tokens, so `models_train.scoring.parse_practice_question` reads the
question and the answer; `models_train.verify` recomputes the variant from `params` and
checks the stated answer with the course's checker.

Question text: the item's prompt with the values filled in; a multiple-choice item adds one
line per choice (`A) …`); an ordering item adds one line per step (`- …`, in a fixed
shuffled order), so the text is a function of the params alone.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from fractions import Fraction

from courses.checkers import AnswerKey
from courses.expressions import ExpressionError, compile_expression, format_value
from courses.placeholders import fill_placeholders, placeholder_names
from courses.specs import ItemSpec
from courses.variants import Variant, VariantError, choice_value, values_from_params, variant_from_values
from models_train.structured_gen import ITEM_PREFIX

QUESTION, ANSWER = "<|question|>", "<|answer|>"
_ITEM_LINE = re.compile(r"^[ \t]*ITEM:[ \t]*(\{.*\})[ \t]*$", re.M)


class StructuredError(ValueError):
    """An ITEM line or params that don't describe a valid variant."""


@dataclass(frozen=True)
class Rebuilt:
    """A variant recomputed from explicit param values (no seed involved)."""

    item: ItemSpec
    values: dict  # name -> value as shown (params then derived)
    question: str  # the question text (see module docstring)
    key: AnswerKey


def item_ref(concept_slug: str, item_slug: str) -> str:
    return f"{concept_slug}/{item_slug}"


def choice_json(choice: str):
    """A choice param's value as the ITEM line writes it: a number when it reads as an
    integer, else the choice as authored."""
    value = choice_value(choice)
    return int(value) if isinstance(value, int) else choice


def params_json(item: ItemSpec, shown: dict) -> dict:
    """The params of a variant as they go into the ITEM line."""
    return {p.name: int(shown[p.name]) if p.is_range else choice_json(shown[p.name]) for p in item.params}


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_NUMBER = re.compile(r"\d+(\.\d+)?")


def calc_value(expression: str) -> str:
    """The plain calculator (`<|calc|> 4*4/5 <|calc_end|>`): the course's own safe evaluator
    (`courses.expressions`: exact fractions, an allowlist of operations, size limits), so a
    tool result is what the course's checker would compute. Errors come back as text for the
    model to see, never as an exception. Nothing is bound here (the tool that binds a practice
    question's names is `models_train.verify.make_calculator`)."""
    try:
        return format_value(compile_expression(expression).evaluate({}))
    except (ExpressionError, ZeroDivisionError, OverflowError, ValueError) as error:
        return f"error: {error}"


def calc_formula(item: ItemSpec) -> str | None:
    """The calculator call a tutor makes for a template's answer: the card's answer formula
    itself, over the template's names (`k*a/b`; the tool binds them to the ITEM line's values),
    or None when the answer isn't a formula over them (a fixed answer, a text choice, multiple
    choice). Since 2026-12-05; before, the tutor had to write the values in itself (`4*4/5`),
    and a 2.9M-parameter tutor got that substitution wrong in most held-out requests."""
    if item.type not in ("numeric", "expression") or not item.answer or not item.is_template:
        return None
    names = {p.name for p in item.params} | {n for n, _ in item.derived}
    return item.answer if any(n in names for n in _NAME.findall(item.answer)) else None


def substitute(expression: str, shown: dict) -> str:
    """``expression`` with every name bound in ``shown`` written as its value (in parentheses
    unless a plain number); other names (functions, an expression item's variables) stay."""

    def value(m: re.Match) -> str:
        name = m.group(0)
        if name not in shown:
            return name
        text = str(shown[name])
        return text if _PLAIN_NUMBER.fullmatch(text) else f"({text})"

    return _NAME.sub(value, expression)


def evaluate_in(item: ItemSpec, shown: dict, expression: str) -> str:
    """What the calculator answers for ``expression`` inside a practice question of ``item``
    whose variant shows ``shown``: for a numeric item the value (exact, as the course formats
    it); for an expression item the expression with the values written in (its variables stay
    symbolic; the checker compares expressions by value)."""
    bound = substitute(expression, shown)
    if item.type == "expression":
        try:
            compile_expression(bound)
        except (ExpressionError, ValueError) as error:
            return f"error: {error}"
        return bound
    return calc_value(bound)


def parse_item_line(text: str) -> tuple[str, dict, str | None]:
    """(item ref, params, answer or None) from the ITEM line; StructuredError if absent/bad."""
    m = _ITEM_LINE.search(text)
    if not m:
        raise StructuredError("no ITEM: line")
    try:
        data = json.loads(m.group(1))
    except json.JSONDecodeError as e:
        raise StructuredError(f"ITEM line is not JSON: {e}") from None
    if not isinstance(data, dict) or not set(data) <= {"item", "params", "answer"}:
        raise StructuredError("ITEM must be an object with keys item, params (answer optional)")
    ref, params, answer = data.get("item"), data.get("params", {}), data.get("answer")
    if not isinstance(ref, str) or ref.count("/") != 1:
        raise StructuredError("item must be 'concept/item'")
    if not isinstance(params, dict):
        raise StructuredError("params must be an object")
    if answer is not None and not isinstance(answer, str):
        raise StructuredError("answer must be a string")
    return ref, params, answer


def _param_value(p, raw):
    """(value, raw choice or None) for one param value from JSON; StructuredError if out of range."""
    if isinstance(raw, bool):
        raise StructuredError(f"{p.name}: not a number")
    if p.is_range:
        if isinstance(raw, str) and re.fullmatch(r"[-+]?\d+", raw.strip()):
            raw = int(raw)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, int):
            raise StructuredError(f"{p.name}: must be an integer")
        if not p.lo <= raw <= p.hi or (raw - p.lo) % p.step:
            raise StructuredError(f"{p.name}={raw} is outside range {p.lo}..{p.hi} step {p.step}")
        return raw, None
    for choice in p.choices:
        if isinstance(raw, str) and raw.strip() == choice.strip():
            return choice_value(choice), choice
    if isinstance(raw, (int, float, str)):
        try:
            wanted = Fraction(str(raw).strip())
        except (ValueError, ZeroDivisionError):
            wanted = None
        if wanted is not None:
            for choice in p.choices:
                v = choice_value(choice)
                if not isinstance(v, str) and Fraction(v) == wanted:
                    return v, choice
    raise StructuredError(f"{p.name}={raw!r} is not one of {list(p.choices)}")


def question_text(item: ItemSpec, prompt: str, choices: tuple[str, ...]) -> str:
    if item.type == "multiple_choice":
        return prompt + "\n" + "\n".join(f"{chr(65 + i)}) {c}" for i, c in enumerate(choices))
    if item.type == "ordering":
        shown = list(choices)
        rng = random.Random("\n".join(choices))
        while len(shown) > 1 and shown == list(choices):
            rng.shuffle(shown)
        return prompt + "\n" + "\n".join(f"- {c}" for c in shown)
    return prompt


def _card_text(text: str) -> str:
    """Template text for a card: placeholders as ⟨name⟩, literal braces as single braces
    (so `$\\frac{{{a}}}{{{b}}}$` reads `$\\frac{⟨a⟩}{⟨b⟩}$`, unambiguous for the model)."""
    return fill_placeholders(text, {name: f"\u27e8{name}\u27e9" for name in placeholder_names(text)})


def template_card(ref: str, item: ItemSpec, difficulty: str) -> str:
    """One template as the tutor sees it when asked for a practice question: its reference,
    difficulty, text, params, constraints, derived values and answer. The model picks one,
    chooses param values that satisfy the constraints, fills the text and computes the
    answer; `models_train.verify` checks all of it. The same card is built for the model
    in the app, so what it is trained on is what it is given."""
    parts = [f"TEMPLATE {ref} ({difficulty}): {_card_text(item.prompt)}"]
    if item.type == "multiple_choice":
        parts.append("choices: " + " | ".join(_card_text(c) for c in item.choices))
    ranges = [
        f"{p.name} {p.lo}..{p.hi}" + (f" step {p.step}" if p.step != 1 else "")
        if p.is_range
        else f"{p.name} one of {' | '.join(p.choices)}"
        for p in item.params
    ]
    if ranges:
        parts.append("params: " + ", ".join(ranges))
    if item.constraints:
        parts.append("when: " + ", ".join(item.constraints))
    if item.derived:
        parts.append("where: " + ", ".join(f"{n} = {e}" for n, e in item.derived))
    if item.type == "multiple_choice":
        parts.append("answer: " + _card_text(item.answer or ""))
    elif item.type == "short_text":
        parts.append("answer: " + " or ".join(_card_text(a) for a in item.answers[:2]))
    elif item.type == "ordering":
        parts.append("answer: the steps in this order: " + " | ".join(_card_text(c) for c in item.choices))
    elif item.answer:
        parts.append("answer: " + _card_text(item.answer))
    return "\n".join(parts)


def variant_of(item: ItemSpec, params: dict, concept_misconceptions=(), *, seed: int = 0) -> Variant:
    """The variant of `item` with these param values (JSON, as an ITEM line holds them): checks
    names, ranges/choices, constraints and derived values exactly as a drawn variant would;
    StructuredError if not. ``seed`` orders the choices as a drawn variant's seed would."""
    names = [p.name for p in item.params]
    if set(params) != set(names):
        missing, extra = sorted(set(names) - set(params)), sorted(set(params) - set(names))
        raise StructuredError(f"params: missing {missing}, unknown {extra}")
    picked = [_param_value(p, params[p.name]) for p in item.params]
    try:
        env, shown = values_from_params(item, picked)
        return variant_from_values(item, env, shown, seed=seed, concept_misconceptions=concept_misconceptions)
    except VariantError as e:
        raise StructuredError(str(e)) from None


def rebuild(item: ItemSpec, params: dict, concept_misconceptions=()) -> Rebuilt:
    """The variant of `item` with these param values (see variant_of), as the verifier compares
    it. The answer key recognises the item's (and the concept's) misconceptions, as a drawn one."""
    variant = variant_of(item, params, concept_misconceptions)
    # the question as the verifier compares it: choices in authored order (the key's)
    choices, key, prompt = variant.key.choices, variant.key, variant.prompt
    return Rebuilt(item=item, values=variant.values, question=question_text(item, prompt, choices), key=key)


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace (detokenised model output may space differently)."""
    return "".join(a.split()) == "".join(b.split())


def same_question(item: ItemSpec, written: str, expected: str) -> bool:
    if item.type != "ordering":
        return same_text(written, expected)
    # ordering: the prompt must agree and the steps must be the same lines, in any order
    w, e = written.strip().split("\n"), expected.strip().split("\n")
    return len(w) == len(e) and sorted("".join(x.split()) for x in w) == sorted("".join(x.split()) for x in e)


__all__ = [
    "ITEM_PREFIX",
    "QUESTION",
    "ANSWER",
    "StructuredError",
    "Rebuilt",
    "item_ref",
    "params_json",
    "choice_json",
    "parse_item_line",
    "rebuild",
    "template_card",
    "calc_value",
    "calc_formula",
    "substitute",
    "evaluate_in",
    "question_text",
    "same_question",
    "same_text",
    "format_value",
]
