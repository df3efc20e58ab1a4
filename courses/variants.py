"""Drawing a variant of an item: reproducibly from (item, seed).

A template item (one with params or derived values) gets param values that satisfy its
constraints: bounded rejection sampling first, then, if that found nothing, an exhaustive
search of small spaces, so that "unsatisfiable" is a real answer and not bad luck. Derived
values are computed, `{name}` placeholders filled, and the answer and misconception matchers
resolved into the AnswerKey that `checkers.check_answer` grades against.

The seed is the variant id: store it in the response log, and `draw_variant(item, seed)`
gives back the same variant (as long as the item's template is unchanged).
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from .checkers import AnswerKey, MisconceptionKey, normalise_text
from .expressions import (
    ExpressionError,
    Value,
    as_value,
    compile_expression,
    format_value,
    to_sympy,
)
from .learner_math import variable_symbols
from .patterns import PatternError, compile_pattern
from .placeholders import PlaceholderError, fill_placeholders
from .specs import DEFAULT_TOLERANCE, MATCH_KINDS_FOR_TYPE, ItemSpec, MisconceptionSpec

REJECTION_TRIES = 300
EXHAUSTIVE_LIMIT = 20_000  # largest param space searched exhaustively

_NUMBER_TEXT = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)$")


class VariantError(ValueError):
    """A variant can't be made (the answer can't be computed, a placeholder is unknown, …)."""


class UnsatisfiableError(VariantError):
    """No param values satisfy the constraints (or none were found)."""


@dataclass(frozen=True)
class RenderedMisconception:
    slug: str
    diagnosis: str
    probe: str


@dataclass(frozen=True)
class Variant:
    item_slug: str
    seed: int  # the variant id
    values: dict  # name -> value as shown (text), params then derived; {} for fixed items
    prompt: str  # Markdown, placeholders filled
    hints: tuple[str, ...]
    solution: str
    choices: tuple[str, ...]  # in display order (ordering: shuffled, never already solved)
    misconceptions: tuple[RenderedMisconception, ...]
    key: AnswerKey


def draw_variant(
    item: ItemSpec, seed: int = 0, *, concept_misconceptions: Sequence[MisconceptionSpec] = ()
) -> Variant:
    """The variant of `item` for `seed`. Concept-level misconceptions apply where their match
    kind fits the item type; an item-level one with the same slug takes precedence."""
    env, shown = draw_values(item, seed)
    return variant_from_values(item, env, shown, seed=seed, concept_misconceptions=concept_misconceptions)


def values_from_params(
    item: ItemSpec, picked: Sequence[tuple[Value, str | None]]
) -> tuple[dict[str, Value], dict[str, str]]:
    """(values for expressions, values as shown in text) for param values chosen explicitly:
    one (value, the choice's text or None for a range param) per `item.params`, in order,
    e.g. by the tutor model when it writes a practice question. VariantError (naming the
    problem) when they break a constraint or a derived value can't be computed."""
    if not item.is_template:
        return {}, {}
    env, error = _complete(item, list(picked))
    if env is None:
        raise VariantError("the params break a constraint" + (f" ({error})" if error else ""))
    return env, _shown(item, list(picked), env)


def variant_from_values(
    item: ItemSpec,
    env: dict[str, Value],
    shown: dict[str, str],
    *,
    seed: int = 0,
    concept_misconceptions: Sequence[MisconceptionSpec] = (),
) -> Variant:
    """The variant with these values (from `draw_values` or `values_from_params`): text
    filled, answer and misconception matchers resolved. `seed` orders the choices."""
    render = (lambda text: _fill(text, shown)) if item.is_template else (lambda text: text)
    choices = tuple(render(c) for c in item.choices)
    if len(set(choices)) != len(choices):
        raise VariantError(f"two choices read the same in variant {seed}")
    own = {m.slug for m in item.misconceptions}
    inherited = [m for m in concept_misconceptions if m.slug not in own]
    rendered, keys = [], []
    for m, from_concept in [(m, False) for m in item.misconceptions] + [(m, True) for m in inherited]:
        key = _misconception_key(item, m, env, render, choices, lenient=from_concept)
        if from_concept and key is None and m.match is not None:
            continue  # its rule doesn't apply to this item
        text = _lenient(render) if from_concept else render
        rendered.append(RenderedMisconception(m.slug, text(m.diagnosis), text(m.probe)))
        if key is not None:
            keys.append(key)
    answer_key = AnswerKey(
        type=item.type,
        answer=_answer(item, env, render, choices),
        choices=choices,
        tolerance=Fraction(item.tolerance or DEFAULT_TOLERANCE),
        units=item.units,
        variables=item.variables or ("x",),
        misconceptions=tuple(keys),
    )
    return Variant(
        item_slug=item.slug,
        seed=seed,
        values=shown,
        prompt=render(item.prompt),
        hints=tuple(render(h) for h in item.hints),
        solution=render(item.solution),
        choices=_display_order(item, choices, seed),
        misconceptions=tuple(rendered),
        key=answer_key,
    )


# --- param values -------------------------------------------------------------------------


def draw_values(item: ItemSpec, seed: int) -> tuple[dict[str, Value], dict[str, str]]:
    """(values for expressions, values as shown in text) for the variant `seed`."""
    if not item.is_template:
        return {}, {}
    rng = random.Random(_seed(item.slug, seed))
    domains = [_domain(p) for p in item.params]
    last_error = ""
    for _ in range(REJECTION_TRIES):
        picked = [d[rng.randrange(len(d))] for d in domains]
        env, error = _complete(item, picked)
        if env is not None:
            return env, _shown(item, picked, env)
        last_error = error or last_error
    solutions = _all_solutions(item)
    if solutions is None:
        raise UnsatisfiableError(
            f"no values satisfying the constraints found in {REJECTION_TRIES} tries"
            + (f" (last problem: {last_error})" if last_error else "")
        )
    if not solutions:
        raise UnsatisfiableError(
            "no values satisfy the constraints" + (f" (last problem: {last_error})" if last_error else "")
        )
    picked = list(solutions[rng.randrange(len(solutions))])
    env, _ = _complete(item, picked)
    return env, _shown(item, picked, env)


def _seed(slug: str, seed: int) -> int:
    digest = hashlib.sha256(f"{slug}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class _Domain(Sequence):
    """The values of one param, without materialising big ranges."""

    def __init__(self, values=None, lo=0, hi=0, step=1, raw=()):
        self.values, self.lo, self.step, self.raw = values, lo, step, raw
        self.n = len(values) if values is not None else (hi - lo) // step + 1

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            raise TypeError
        if not 0 <= i < self.n:
            raise IndexError(i)
        return (self.values[i], self.raw[i]) if self.values is not None else (self.lo + i * self.step, None)


def _domain(p) -> _Domain:
    if p.is_range:
        return _Domain(lo=p.lo, hi=p.hi, step=p.step)
    return _Domain(values=[choice_value(c) for c in p.choices], raw=p.choices)


def choice_value(text: str) -> Value:
    """A param choice: a number if it reads as an integer or decimal, else text."""
    if _NUMBER_TEXT.match(text.strip()):
        return as_value(Fraction(text.strip()))
    return text


def _complete(item: ItemSpec, picked) -> tuple[dict | None, str]:
    env: dict[str, Value] = {p.name: v for p, (v, _raw) in zip(item.params, picked)}
    try:
        for name, expression in _plan(item.derived, item.constraints):
            if name is None:
                if not expression.evaluate_bool(env):
                    return None, ""
            else:
                env[name] = expression.evaluate(env)
    except ExpressionError as e:
        return None, str(e)  # a draw where a derived value can't be computed is rejected
    return env, ""


@lru_cache(maxsize=1024)
def _plan(derived, constraints) -> tuple:
    """The derived values in order, each constraint as soon as the values it reads are known:
    ('x3 > x1' needs no exp() computed first). A draw is accepted when every value computes
    and every constraint holds, whatever the order, so the variants are the same; rejecting
    early makes the exhaustive search of a sparse template seconds instead of minutes."""
    pending = [compile_expression(source) for source in constraints]
    later = {name for name, _ in derived}
    steps = []

    def ready():
        nonlocal pending
        steps.extend((None, c) for c in pending if not (c.names & later))
        pending = [c for c in pending if c.names & later]

    ready()
    for name, source in derived:
        steps.append((name, compile_expression(source)))
        later.discard(name)
        ready()
    return tuple(steps)


def _shown(item: ItemSpec, picked, env) -> dict[str, str]:
    shown = {}
    for p, (value, raw) in zip(item.params, picked):
        shown[p.name] = raw if raw is not None else format_value(value)
    for name, _ in item.derived:
        shown[name] = format_value(env[name])
    return shown


def _all_solutions(item: ItemSpec):
    return _solutions(item.params, item.constraints, item.derived)


@lru_cache(maxsize=256)
def _solutions(params, constraints, derived) -> tuple | None:
    """Every satisfying assignment, or None when the space is too big to search."""
    probe = ItemSpec(
        slug="", type="numeric", prompt="", params=params, constraints=constraints, derived=derived
    )
    domains = [_domain(p) for p in params]
    size = 1
    for d in domains:
        size *= len(d)
        if size > EXHAUSTIVE_LIMIT:
            return None
    return tuple(combo for combo in itertools.product(*domains) if _complete(probe, combo)[0] is not None)


# --- text, answer and misconceptions ------------------------------------------------------


def _fill(text: str, shown: dict[str, str]) -> str:
    try:
        return fill_placeholders(text, shown)
    except PlaceholderError as e:
        raise VariantError(str(e)) from None


def _lenient(render):
    """Concept-level text applies to many items; where it can't be filled, show it as is."""

    def fill(text: str) -> str:
        try:
            return render(text)
        except VariantError:
            return text

    return fill


def _answer(item: ItemSpec, env, render, choices):
    try:
        if item.type == "numeric":
            return compile_expression(item.answer).evaluate_number(env)
        if item.type == "expression":
            return _expression(item, item.answer, env)
    except ExpressionError as e:
        raise VariantError(f"the answer can't be computed: {e}") from None
    if item.type == "multiple_choice":
        return render(item.answer)
    if item.type == "short_text":
        return tuple(render(a) for a in item.answers)
    return choices  # ordering: the authored order


def _expression(item: ItemSpec, source: str, env) -> sympy.Basic:
    symbols = variable_symbols(item.variables or ("x",))
    value = compile_expression(source).evaluate({**env, **symbols})
    try:
        return to_sympy(value)
    except Exception:  # noqa: BLE001 — true/false or text where an expression belongs
        raise ExpressionError(source, "should be an expression") from None


def _misconception_key(item, m: MisconceptionSpec, env, render, choices, *, lenient: bool):
    """The resolved matcher, or None if `m` has no match or (concept-level) doesn't apply."""
    if m.match is None:
        return None
    kind, value = m.match.kind, m.match.value
    if kind not in MATCH_KINDS_FOR_TYPE[item.type]:
        return None
    try:
        if kind == "value":
            target = compile_expression(value).evaluate_number(env)
        elif kind == "expression":
            target = _expression(item, value, env)
        elif kind == "answer":
            target = normalise_text(render(value))
        elif kind == "choice":
            target = render(value)
            if target not in choices:
                return None
        elif kind == "order":
            target = tuple(render(v) for v in value)
            if sorted(target) != sorted(choices):
                return None
        else:
            target = compile_pattern(value)
    except (ExpressionError, VariantError, PatternError) as e:
        if lenient:
            return None
        raise VariantError(f"misconception {m.slug}: {e}") from None
    return MisconceptionKey(m.slug, kind, target)


def _display_order(item: ItemSpec, choices: tuple[str, ...], seed: int) -> tuple[str, ...]:
    if item.type == "multiple_choice" and len(choices) > 1 and (item.is_template or seed):
        # Shuffled per variant (a fixed item's seed is given per learner and step): in the
        # author's order the right answer would too often sit in the same place. Seed 0 keeps
        # the authored order, as the ramp checks and previews show it.
        shown = list(choices)
        random.Random(_seed(item.slug + "/choices", seed)).shuffle(shown)
        return tuple(shown)
    if item.type != "ordering" or len(choices) < 2:
        return choices
    # An ordering starts far from solved: no step whose right place is first stays first, and
    # at most a third of the steps (rounded down, at least none for short lists) stay in place.
    rng = random.Random(_seed(item.slug + "/order", seed))
    shown = list(choices)
    allowed = len(choices) // 3 if len(choices) > 3 else 0
    for _ in range(200):
        rng.shuffle(shown)
        in_place = sum(a == b for a, b in zip(shown, choices))
        if in_place <= allowed and shown[0] != choices[0]:
            break
    return tuple(shown)
