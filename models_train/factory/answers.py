"""Answers as a learner would type them: the correct one (for `meta.answer` and practice
questions) and wrong ones, either matching a given misconception or matching none. Every
answer made here is graded by `courses.checkers.check_answer` before it is used, so a
"misconception" answer really is recognised as that misconception."""

from __future__ import annotations

import math
import random
import re
import re._parser as sre_parse  # noqa: PLC2701 — only to write an example string for a pattern
from fractions import Fraction

import sympy

from courses.checkers import AnswerKey, check_answer
from courses.expressions import format_value, to_sympy

Answer = str | list[str]  # ordering answers are lists of steps


def _digits(key: AnswerKey) -> int:
    tol = key.tolerance
    if tol <= 0 or tol < Fraction(1, 10**9):
        return 9
    return max(0, min(9, math.ceil(-math.log10(float(tol)))))


def _is_exact(v) -> bool:
    return isinstance(v, (int, Fraction)) and not isinstance(v, bool)


def number_text(v, key: AnswerKey) -> str | None:
    """A number the way the item asks for it: exact (3, 3/4) for exact items, else decimals
    to the tolerance's precision. None when v is not a real number."""
    loose = key.tolerance >= Fraction(1, 10**6)
    if _is_exact(v) and (not loose or Fraction(v).denominator == 1):
        return format_value(v)
    try:
        f = float(to_sympy(v).evalf(30))
    except (TypeError, ValueError, ArithmeticError):
        return None
    if not math.isfinite(f):
        return None
    d = _digits(key) if loose else 9
    text = f"{f:.{d}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def with_units(text: str, key: AnswerKey) -> str:
    return text + (f" {key.units[0]}" if key.units else "")


def learner_expression(value) -> str:
    """An expression as a learner types it: `5x - 10`, `x^2` (not `5*x`, `x**2`)."""
    text = format_value(value).replace("**", "^")
    return re.sub(r"(?<=[\d)])\*(?=[A-Za-z(])", "", text)


def _expression_forms(value) -> list[str]:
    forms = [learner_expression(value), format_value(value)]
    return list(dict.fromkeys(forms))


def answer_forms(key: AnswerKey) -> list[str]:
    """Every spelling of the correct answer a tutor reply must not contain ([0] is canonical)."""
    a = key.answer
    if key.type == "numeric":
        forms = []
        for t in (number_text(a, key), format_value(a) if _is_exact(a) else None):
            if t and t not in forms:
                forms.append(t)
        if _is_exact(a) and Fraction(a).denominator != 1:
            f = float(a)
            dec = f"{f:.{max(2, _digits(key) if key.tolerance >= Fraction(1, 10**6) else 4)}f}".rstrip(
                "0"
            ).rstrip(".")
            if dec not in forms:
                forms.append(dec)
        return forms
    if key.type == "multiple_choice":
        return [a]
    if key.type == "short_text":
        return list(a)
    if key.type == "expression":
        return _expression_forms(a)
    return ["\n".join(a)]  # ordering: the steps in order


def correct_answer(key: AnswerKey) -> Answer:
    """The canonical correct answer as typed (checked)."""
    if key.type == "ordering":
        return list(key.answer)
    text = answer_forms(key)[0]
    if key.type == "numeric":
        text = with_units(text, key)
    result = check_answer(key, text)
    if not result.correct:  # a rounding that misses: fall back to full precision
        text = with_units(
            format_value(key.answer) if _is_exact(key.answer) else str(to_sympy(key.answer).evalf(15)), key
        )
    return text


def answer_text(answer: Answer) -> str:
    return "\n".join(answer) if isinstance(answer, list) else answer


# --- wrong answers that match a misconception ---------------------------------------------


def _pattern_examples(pattern, rng: random.Random, n: int = 4) -> list[str]:
    """A few strings the regex matches in full (best effort; each is checked afterwards)."""
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001
        return []
    out = []
    for _ in range(n):
        try:
            out.append(_gen(parsed, rng, 0))
        except _Give:
            return out
    return out


class _Give(Exception):
    pass


def _gen(seq, rng, depth) -> str:
    if depth > 20:
        raise _Give
    s = []
    for op, av in seq:
        name = str(op)
        if name == "LITERAL":
            s.append(chr(av))
        elif name == "NOT_LITERAL":
            s.append("x" if chr(av) != "x" else "y")
        elif name == "ANY":
            s.append(rng.choice("abc123"))
        elif name == "IN":
            s.append(_gen_in(av, rng))
        elif name == "BRANCH":
            s.append(_gen(rng.choice(av[1]), rng, depth + 1))
        elif name == "SUBPATTERN":
            s.append(_gen(av[-1], rng, depth + 1))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            count = lo + rng.randint(0, min(2, (hi if hi != sre_parse.MAXREPEAT else lo + 2) - lo))
            s.append("".join(_gen(sub, rng, depth + 1) for _ in range(count)))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise _Give
    return "".join(s)


def _gen_in(items, rng) -> str:
    options = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            options.append(chr(av))
        elif name == "RANGE":
            options.append(chr(rng.randint(av[0], av[1])))
        elif name == "CATEGORY":
            cat = str(av)
            options.append({"CATEGORY_DIGIT": "7", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "w"}.get(cat, ""))
        elif name == "NEGATE":
            raise _Give
    options = [o for o in options if o]
    if not options:
        raise _Give
    return rng.choice(options)


def misconception_candidates(key: AnswerKey, slug: str, rng: random.Random) -> list[Answer]:
    """Answers that might match misconception `slug` (to be checked)."""
    m = next((m for m in key.misconceptions if m.slug == slug), None)
    if m is None:
        return []
    t = m.target
    if m.kind == "value":
        out = [number_text(t, key)]
        if _is_exact(t) and Fraction(t).denominator != 1:
            out.append(number_text(sympy.Float(float(t), 30), key))
        return [with_units(x, key) for x in out if x]
    if m.kind == "answer":
        return [t]
    if m.kind == "choice":
        return [t]
    if m.kind == "expression":
        return _expression_forms(t)
    if m.kind == "order":
        return [list(t)]
    # pattern: a negated correct answer first (the common "sign" slip), then examples
    out: list[Answer] = []
    if key.type == "numeric":
        neg = number_text(-to_sympy(key.answer), key)
        if neg:
            out.append(with_units(neg, key))
    out += _pattern_examples(t, rng)
    return out


def misconception_answer(key: AnswerKey, slug: str, rng: random.Random) -> Answer | None:
    """A wrong answer that check_answer reports as misconception `slug`, or None."""
    for cand in misconception_candidates(key, slug, rng):
        r = check_answer(key, cand)
        if not r.correct and r.readable and r.misconception == slug:
            return cand
    return None


# --- wrong answers that match no misconception --------------------------------------------


def _numeric_wrong(key: AnswerKey, rng: random.Random) -> list[str]:
    a = to_sympy(key.answer)
    exact = _is_exact(key.answer)
    steps = [1, -1, 2, 10, -2, 3]
    rng.shuffle(steps)
    cands = []
    for s in steps:
        cands.append(a + s)
    cands += [a * 2, a / 2 if a != 0 else 5, -a if a != 0 else 3, a * 10]
    if not exact:
        mag = abs(float(a.evalf())) or 1.0
        cands = [a + sympy.Float(mag * f, 15) for f in (0.3, -0.25, 0.5)] + cands
    out = []
    for c in cands:
        c = sympy.nsimplify(c) if exact else c
        value = (
            int(c)
            if exact and c.is_Integer
            else (Fraction(int(c.p), int(c.q)) if exact and c.is_Rational else c)
        )
        t = number_text(value, key)
        if t:
            out.append(with_units(t, key))
    return out


def unmatched_candidates(key: AnswerKey, rng: random.Random, others: list[str]) -> list[Answer]:
    if key.type == "numeric":
        return _numeric_wrong(key, rng)
    if key.type == "multiple_choice":
        wrong = [c for c in key.choices if c != key.answer]
        rng.shuffle(wrong)
        return wrong
    if key.type == "short_text":
        pool = list(others)
        rng.shuffle(pool)
        return pool
    if key.type == "expression":
        a = to_sympy(key.answer)
        var = sympy.Symbol((key.variables or ("x",))[0])
        return [f for c in (a + 1, a - var, 2 * a, a + var) for f in _expression_forms(c)]
    steps = list(key.answer)
    out = []
    for _ in range(12):
        perm = steps[:]
        rng.shuffle(perm)
        if perm != steps and perm not in out:
            out.append(perm)
    return out


def unmatched_answer(
    key: AnswerKey, rng: random.Random, others: list[str] = (), accept=None
) -> Answer | None:
    """A readable wrong answer that matches no misconception (and that `accept` takes), or None."""
    for cand in unmatched_candidates(key, rng, list(others)):
        if accept is not None and not accept(cand):
            continue
        r = check_answer(key, cand)
        if r.readable and not r.correct and r.misconception is None:
            return cand
    return None
