"""Grading a learner's answer against an AnswerKey (one variant's resolved answer).

Three outcomes, deliberately distinct: correct, incorrect, and unreadable ("I couldn't read
3//4 as a number"), because an answer we couldn't read is not evidence that the learner is
wrong. An incorrect answer may match a misconception (its slug is returned), which is what
lets the tutor probe instead of correct.

`variants.draw_variant(item, seed).key` builds the AnswerKey for an item.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .characters import strip_invisible
from .equivalence import equivalent
from .expressions import Value, format_value, to_sympy
from .learner_math import MathInputError, parse_learner_math

MAX_ANSWER_LENGTH = 500


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    correct: bool
    readable: bool  # False: we couldn't read it; neither right nor wrong
    normalised: str  # canonical form of the answer, for the response log
    misconception: str | None = None  # slug of the matched misconception, if any
    message: str = ""  # for the learner (why we couldn't read it, or a remark)

    @property
    def outcome(self) -> str:
        return "correct" if self.correct else "incorrect" if self.readable else "unreadable"


@dataclass(frozen=True)
class MisconceptionKey:
    """A resolved matcher. target: value → number; answer → normalised text; choice → the
    choice text; expression → sympy expression; order → tuple of texts; pattern → regex."""

    slug: str
    kind: str
    target: Any


@dataclass(frozen=True)
class AnswerKey:
    """What `check_answer` needs. answer: numeric → number (int/Fraction/sympy);
    multiple_choice → the correct choice; short_text → tuple of accepted answers (as
    written); expression → sympy expression; ordering → tuple of steps in order."""

    type: str
    answer: Any
    choices: tuple[str, ...] = ()
    tolerance: Fraction = Fraction(1, 10**9)
    units: tuple[str, ...] = ()
    variables: tuple[str, ...] = ("x",)
    misconceptions: tuple[MisconceptionKey, ...] = field(default=())


def check_answer(key: AnswerKey, response: str | Sequence[str]) -> CheckResult:
    """Grade `response` (text; for ordering a list of the steps, or one step per line)."""
    grader = _GRADERS[key.type]
    if isinstance(response, str) and len(response) > MAX_ANSWER_LENGTH:
        return CheckResult(correct=False, readable=False, normalised="", message="That answer is too long.")
    reading = grader(key, response)
    if reading.correct:
        return CheckResult(
            correct=True, readable=True, normalised=reading.normalised, message=reading.message
        )
    slug = _first_match(key, reading, response)
    if not reading.readable and slug is None:
        return CheckResult(
            correct=False, readable=False, normalised=reading.normalised, message=reading.message
        )
    return CheckResult(
        correct=False,
        readable=True,
        normalised=reading.normalised,
        misconception=slug,
        message=reading.message if reading.readable else "",
    )


def matching_misconceptions(key: AnswerKey, response: str | Sequence[str]) -> list[str]:
    """Every misconception the response matches, correct or not (for the ramp checks)."""
    reading = _GRADERS[key.type](key, response)
    return [m.slug for m in key.misconceptions if _matches(key, m, reading, response)]


# --- readings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reading:
    readable: bool
    correct: bool
    normalised: str
    value: Any = None  # numeric: list of candidate Fractions; others: the parsed answer
    message: str = ""


def normalise_text(text: str) -> str:
    """Case, surrounding/repeated whitespace, trailing punctuation and invisible characters
    (a zero-width space, a soft hyphen; see characters.py) don't matter."""
    text = strip_invisible(unicodedata.normalize("NFKC", text)).casefold()
    text = " ".join(text.split())
    return text.rstrip(".,;:!?。").rstrip()


_NUMBER = re.compile(
    r"""^(?P<sign>[-+])?\s*(?:
        (?P<whole>\d+)\s+(?P<mnum>\d+)\s*/\s*(?P<mden>\d+)
      | (?P<num>\d+)\s*/\s*(?P<den>\d+)
      | (?P<dec>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE](?P<exp>[-+]?\d{1,3}))?
    )\s*(?P<unit>.*?)\s*$""",
    re.X,
)
_UNIT = re.compile(r"^(?:[%°$€£µ]|[^\W\d_])\S*(?:\s+[^\W\d_]\S*)*$")


def parse_number(text: str) -> tuple[Fraction, str] | None:
    """An integer, decimal, fraction or mixed number, and what follows it (a unit)."""
    text = strip_invisible(unicodedata.normalize("NFKC", text)).replace("−", "-").replace("⁄", "/").strip()
    m = _NUMBER.match(text)
    if not m:
        return None
    if m["whole"] is not None:
        if int(m["mden"]) == 0:
            return None
        value = int(m["whole"]) + Fraction(int(m["mnum"]), int(m["mden"]))
    elif m["num"] is not None:
        if int(m["den"]) == 0:
            return None
        value = Fraction(int(m["num"]), int(m["den"]))
    else:
        value = Fraction(m["dec"].replace(",", ""))
        if m["exp"]:
            value *= Fraction(10) ** int(m["exp"])
    if m["sign"] == "-":
        value = -value
    return value, m["unit"]


def _normalise_unit(unit: str) -> str:
    unit = unicodedata.normalize("NFKC", unit).casefold().replace(" ", "").rstrip(".")
    return unit.replace("^2", "2").replace("^3", "3").replace("²", "2").replace("³", "3")


# "x = 7" answers "solve for x" with 7: a learner writing the variable isn't wrong
_SOLVED_FOR = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_]{0,2}\s*=\s*(?=\S)")


def _read_numeric(key: AnswerKey, response) -> _Reading:
    raw = response if isinstance(response, str) else " ".join(response)
    shown = raw.strip()
    if not shown:
        return _Reading(False, False, "", message="Type an answer first.")
    raw = _SOLVED_FOR.sub("", raw, count=1) if raw.count("=") == 1 else raw
    parsed = parse_number(raw)
    unreadable = _Reading(False, False, shown, message=f"I couldn't read {shown} as a number.")
    if parsed is None:
        return unreadable
    value, unit = parsed
    candidates = [value]
    unit_ok = True
    if unit:
        if not _UNIT.match(unit):
            return unreadable
        accepted = [_normalise_unit(u) for u in key.units]
        if _normalise_unit(unit) in accepted:
            unit = key.units[0]
        elif unit == "%" and not key.units:
            candidates = [value, value / 100]  # "75%" answers both "75" and "0.75"
        elif not key.units:
            return _Reading(
                False, False, shown, message=f"I couldn't read {shown} as a number: give just the number."
            )
        else:
            unit_ok = False
    normalised = format_value(_exact(value)) + (f" {unit}" if unit else "")
    correct = unit_ok and any(_close(c, key.answer, key.tolerance) for c in candidates)
    message = "" if unit_ok else "That unit doesn't fit here."
    return _Reading(True, correct, normalised, value=candidates if unit_ok else [], message=message)


def _exact(v: Fraction) -> Value:
    return v.numerator if v.denominator == 1 else v


def _close(a: Value, b: Value, tolerance: Fraction) -> bool:
    if isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction)):
        return abs(a - b) <= tolerance
    try:
        diff = (to_sympy(a) - to_sympy(b)).evalf(40)
        return bool(diff.is_real) and bool(abs(diff) <= to_sympy(tolerance))
    except (ArithmeticError, TypeError, ValueError):  # sympy can't decide: not a match
        return False


def _read_choice(key: AnswerKey, response) -> _Reading:
    raw = response if isinstance(response, str) else " ".join(response)
    choice = _find_choice(key.choices, raw)
    if choice is None:
        return _Reading(False, False, raw.strip(), message="Pick one of the choices.")
    return _Reading(True, choice == key.answer, choice, value=choice)


def _find_choice(choices: Sequence[str], raw: str) -> str | None:
    if raw.strip() in choices:
        return raw.strip()
    wanted = normalise_text(raw)
    found = [c for c in choices if normalise_text(c) == wanted]
    return found[0] if len(found) == 1 else None


def _read_short_text(key: AnswerKey, response) -> _Reading:
    raw = response if isinstance(response, str) else " ".join(response)
    text = normalise_text(raw)
    if not text:
        return _Reading(False, False, "", message="Type an answer first.")
    correct = any(text == normalise_text(a) for a in key.answer)
    return _Reading(True, correct, text, value=text)


def _read_expression(key: AnswerKey, response) -> _Reading:
    raw = response if isinstance(response, str) else " ".join(response)
    try:
        expr = parse_learner_math(raw, key.variables)
    except MathInputError as e:
        return _Reading(False, False, raw.strip(), message=str(e))
    normalised = format_value(expr)
    return _Reading(True, equivalent(expr, key.answer), normalised, value=expr)


def _read_ordering(key: AnswerKey, response) -> _Reading:
    steps = response.splitlines() if isinstance(response, str) else list(response)
    steps = [s for s in (str(s) for s in steps) if s.strip()]
    chosen = [_find_choice(key.choices, s) for s in steps]
    if None in chosen or sorted(chosen) != sorted(key.choices):
        return _Reading(False, False, " | ".join(steps), message="Use each step exactly once.")
    order = tuple(chosen)
    return _Reading(True, order == tuple(key.answer), " | ".join(order), value=order)


_GRADERS = {
    "numeric": _read_numeric,
    "multiple_choice": _read_choice,
    "short_text": _read_short_text,
    "expression": _read_expression,
    "ordering": _read_ordering,
}

# --- misconceptions -----------------------------------------------------------------------


def _first_match(key: AnswerKey, reading: _Reading, response) -> str | None:
    for m in key.misconceptions:
        if _matches(key, m, reading, response):
            return m.slug
    return None


def _matches(key: AnswerKey, m: MisconceptionKey, reading: _Reading, response) -> bool:
    if m.kind == "pattern":
        raw = response if isinstance(response, str) else "\n".join(response)
        return m.target.fullmatch(normalise_text(raw)[:MAX_ANSWER_LENGTH]) is not None
    if not reading.readable:
        return False
    if m.kind == "value":
        return any(_close(c, m.target, key.tolerance) for c in reading.value)
    if m.kind == "answer":
        return reading.value == m.target
    if m.kind == "choice":
        return reading.value == m.target
    if m.kind == "expression":
        return equivalent(reading.value, m.target)
    if m.kind == "order":
        return reading.value == tuple(m.target)
    return False


def answer_as_input(key: AnswerKey) -> list[str | list[str]]:
    """Ways a learner could type the correct answer (every one must grade as correct)."""
    from .expressions import format_decimal

    if key.type == "numeric":
        v = key.answer
        text = format_value(v) if isinstance(v, (int, Fraction)) else format_decimal(v)
        return [text + (f" {key.units[0]}" if key.units else "")]
    if key.type == "multiple_choice":
        return [key.answer]
    if key.type == "short_text":
        return list(key.answer)
    if key.type == "expression":
        return [format_value(key.answer)]
    return [list(key.answer)]
