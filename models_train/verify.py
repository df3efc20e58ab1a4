"""The practice-question verifier: the `verify(task_metadata, generated_text) -> bool` hook of
`models_train.evaluate`, built from the courses (the Django side: it imports `courses`).

    from models_train.verify import make_verifier
    verify = make_verifier([read_ramp("ramps/from-lookup-table-to-gpt")])
    evaluate_model(model, tok, heldout, verify=verify)

A generated practice question (format in `models_train.factory.structured`)

    ITEM: {"item": "<concept>/<item>", "params": {...}}
    <|question|> … <|answer|> …

is accepted only when all of these hold:
1. the ITEM line parses, and the question/answer markers are there (`scoring.parse_practice_question`);
2. the item exists in the dialogue's course (`meta.course`; any given course when absent),
   belongs to the requested concept (`meta.concept`, when present) and, when
   `meta.difficulty` is given, has that difficulty (easy < -0.5 ≤ medium ≤ 0.5 < hard);
3. the params name exactly the template's params, each within its range (and step) or
   among its choices, and satisfy the constraints with computable derived values (the same
   code `courses.variants` draws with);
4. the question text is the one those params give (up to whitespace; `check_question=False`
   skips this);
5. the stated answer is correct for the recomputed variant by `courses.checkers.check_answer`
   (and so is the ITEM line's `answer`, when present).
Anything unparseable or invalid is False; `verify` never raises. `check_practice(...)`
returns the reason as well, for reports and debugging.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from courses.checkers import check_answer
from courses.specs import CourseSpec
from models_train.factory.builder import difficulty_bucket
from models_train.factory.structured import (
    StructuredError,
    calc_value,
    choice_json,
    evaluate_in,
    parse_item_line,
    rebuild,
    same_question,
)
from models_train.scoring import parse_practice_question
from models_train.structured_gen import TemplateSchema, write_practice

Verify = Callable[[dict, str], bool]


def _stated(item_type: str, answer: str):
    if item_type == "ordering":
        return [line.strip().lstrip("-").strip() for line in answer.strip().splitlines() if line.strip()]
    return answer.strip()


def find_item(pool: Iterable[CourseSpec], ref: str):
    """(concept, item) for a "concept/item" reference in the first course of ``pool`` that
    has it, or None."""
    concept_slug, item_slug = ref.split("/")
    for course in pool:
        try:
            concept = course.concept(concept_slug)
            return concept, concept.item(item_slug)
        except KeyError:
            continue
    return None


def check_practice(
    courses: dict[str, CourseSpec],
    meta: dict,
    text: str,
    *,
    check_question: bool = True,
    check_difficulty: bool = True,
) -> tuple[bool, str]:
    """(accepted, reason) for one generated practice question."""
    try:
        ref, params, json_answer = parse_item_line(text)
    except StructuredError as e:
        return False, str(e)
    qa = parse_practice_question(text)
    if qa is None:
        return False, "no <|question|> … <|answer|> … part"
    question, answer = qa
    course_slug = meta.get("course")
    if course_slug is not None and course_slug not in courses:
        return False, f"unknown course {course_slug!r}"
    pool = [courses[course_slug]] if course_slug is not None else list(courses.values())
    concept_slug = ref.split("/")[0]
    if meta.get("concept") is not None and concept_slug != meta["concept"]:
        return False, f"item of concept {concept_slug!r}, asked for {meta['concept']!r}"
    found = find_item(pool, ref)
    if found is None:
        return False, f"no item {ref!r}"
    concept, item = found
    if (
        check_difficulty
        and meta.get("difficulty")
        and difficulty_bucket(item.difficulty) != meta["difficulty"]
    ):
        return False, f"item is {difficulty_bucket(item.difficulty)}, asked for {meta['difficulty']}"
    try:
        variant = rebuild(item, params, concept.misconceptions)
    except StructuredError as e:
        return False, str(e)
    if check_question and not same_question(item, question, variant.question):
        return False, "the question text is not the one these params give"
    for stated in [answer] + ([json_answer] if json_answer is not None else []):
        result = check_answer(variant.key, _stated(item.type, stated))
        if not result.correct:
            why = result.message or (
                "matches misconception " + result.misconception if result.misconception else ""
            )
            return False, f"stated answer {stated!r} is {result.outcome}" + (f" ({why})" if why else "")
    return True, "ok"


def make_verifier(
    course_specs: Iterable[CourseSpec], *, check_question: bool = True, check_difficulty: bool = True
) -> Verify:
    """verify(task_metadata, generated_text) -> bool for models_train.evaluate."""
    courses = {c.slug: c for c in course_specs}

    def verify(task_metadata: dict, generated_text: str) -> bool:
        try:
            ok, _ = check_practice(
                courses,
                task_metadata or {},
                generated_text,
                check_question=check_question,
                check_difficulty=check_difficulty,
            )
            return ok
        except Exception:  # noqa: BLE001 — a model's output must never crash an evaluation
            return False

    verify.check = lambda meta, text: check_practice(  # type: ignore[attr-defined]
        courses, meta or {}, text, check_question=check_question, check_difficulty=check_difficulty
    )
    return verify


_CARD = re.compile(r"^TEMPLATE (\S+/\S+) \(", re.M)


def practice_schema(courses: dict[str, CourseSpec], meta: dict, system: str) -> list[TemplateSchema]:
    """The templates a practice request allows: those whose cards its system turn shows
    (`models_train.factory.builder.practice_templates`), with every param's allowed values."""
    out = []
    pool = [courses[meta["course"]]] if meta.get("course") in courses else list(courses.values())
    for ref in _CARD.findall(system):
        found = find_item(pool, ref)
        if found is None:
            continue
        params = tuple(
            (
                p.name,
                tuple(range(p.lo, p.hi + 1, p.step))
                if p.is_range
                else tuple(choice_json(c) for c in p.choices),
            )
            for p in found[1].params
        )
        out.append(TemplateSchema(ref, params))
    return out


def _variant_of(pool: Iterable[CourseSpec], ref: str, params: dict):
    """(item, the variant these params give) for a template reference; None for a template
    that isn't there; StructuredError for params it can't take."""
    found = find_item(pool, ref)
    if found is None:
        return None
    concept, item = found
    return item, rebuild(item, params, concept.misconceptions)


def make_calculator(course_specs: Iterable[CourseSpec]) -> Callable[[str, str], str]:
    """The calculator tool for practice questions, ``calc(expression, turn) -> text``: the
    names of the template that the turn's ITEM line picks are bound to the values its params
    give (params and derived values, as `rebuild` computes them); without a readable ITEM line,
    or for an unknown template, it is the plain calculator (`calc_value`)."""
    courses = list(course_specs)

    def calc(expression: str, turn: str = "") -> str:
        try:
            ref, params, _ = parse_item_line(turn)
        except StructuredError:
            return calc_value(expression)
        try:
            found = _variant_of(courses, ref, params)
        except StructuredError as error:
            return f"error: {error}"
        if found is None:
            return calc_value(expression)
        item, variant = found
        return evaluate_in(item, variant.values, expression)

    return calc


def make_practice_writer(course_specs: Iterable[CourseSpec], *, temperature: float = 0.0, calc=None):
    """write_practice(model, tok, dialogue, prompt_ids, seed) -> text or None for
    `models_train.evaluate` (and the app): the model writes the practice question inside the
    format (`models_train.structured_gen`), with the templates its request shows and the
    course's own variant code as the judge of the params."""
    course_specs = list(course_specs)
    courses = {c.slug: c for c in course_specs}
    calc = calc or make_calculator(course_specs)

    def variant(ref: str, params: dict):
        try:
            return _variant_of(courses.values(), ref, params)
        except StructuredError:
            return None

    def question_for(ref: str, params: dict) -> str | None:
        found = variant(ref, params)
        return found[1].question if found else None

    def choices_for(ref: str, params: dict) -> list[str] | None:
        found = variant(ref, params)
        return list(found[1].key.choices) if found and found[0].type == "multiple_choice" else None

    def write(model, tok, dialogue: dict, prompt_ids: list[int], seed: int = 0) -> str | None:
        system = next((m["content"] for m in dialogue["messages"] if m["role"] == "system"), "")
        schema = practice_schema(courses, dialogue.get("meta") or {}, system)
        return write_practice(
            model,
            tok,
            prompt_ids,
            schema,
            question_for,
            temperature=temperature,
            seed=seed,
            calc=calc,
            choices_for=choices_for,
        )

    return write
