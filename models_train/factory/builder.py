"""CourseSpecs → tutoring dialogues (the dialogue JSONL format of docs/models.md).

Deterministic from `seed`: every dialogue's randomness comes from a hash of (seed, course,
concept, item, kind, index), so adding a ramp or an item never changes the others'
dialogues. See `KINDS` for the tasks and `build_dialogues` for the entry point.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from courses.checkers import check_answer
from courses.specs import ConceptSpec, CourseSpec, ItemSpec
from courses.variants import Variant, VariantError, draw_variant
from models_train.dialogue import CALC, CALC_END, RESULT, RESULT_END, split_dialogues, validate
from models_train.moments import Situation, checker_line, prompt_dialogue
from models_train.scoring import content_terms, reveals_answer
from models_train.structured_gen import practice_text

from . import phrasing as P
from .answers import (
    answer_forms,
    answer_text,
    correct_answer,
    misconception_answer,
    unmatched_answer,
)
from .structured import (
    calc_formula,
    evaluate_in,
    item_ref,
    params_json,
    question_text,
    template_card,
)

# kind (what the factory makes) -> task (the dialogue format's task field)
KINDS = {
    "explain": "explain",  # the concept's material at a level, adapted from the Material line
    "answer_question": "chat",  # a learner's question answered from the Material line
    "next_hint": "hint",  # stuck learner gets the next authored hint (the Hint line)
    "try_first": "chat",  # "how do I solve this?" -> "how would you start?" + the first hint
    "probe_misconception": "respond_to_mistake",  # wrong answer matching a misconception -> its probe
    "unmatched_mistake": "respond_to_mistake",  # wrong answer matching none -> how did you get it?
    "probe_followup": "respond_to_mistake",  # the learner answered the probe -> the first hint
    "practice_question": "practice_question",  # a new question, structured (ITEM line) + answer
}
# every kind but practice is a moment of models_train.moments, prompted the way the study
# loop prompts the active model
MOMENT_OF = {
    "explain": "explain",
    "answer_question": "chat",
    "next_hint": "hint",
    "try_first": "chat",
    "probe_misconception": "mistake",
    "unmatched_mistake": "mistake",
    "probe_followup": "followup",
}
SOURCE = "ramp"
MAX_EXCERPT = 560  # characters of material quoted in one reply (fits a 256-token context)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _rng(*parts) -> random.Random:
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _unit(*parts) -> float:
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def difficulty_bucket(difficulty: float) -> str:
    return "easy" if difficulty < -0.5 else "hard" if difficulty > 0.5 else "medium"


def reveals_any(text: str, forms: Iterable[str]) -> bool:
    """The evaluator's reveal test (scoring.reveals_answer) against every spelling."""
    return any(reveals_answer(text, f) for f in forms if f)


def reveals_beyond(text: str, said: str, forms: Iterable[str]) -> bool:
    """reveals_any, the learner's own answer aside: a reply may repeat "you wrote 1/6" though
    the answer is 6, and that tells the learner nothing they didn't write."""
    return reveals_any(text.replace(said, " ") if said else text, forms)


@dataclass
class BuildReport:
    counts: Counter = field(default_factory=Counter)  # (kind, split) -> n
    skipped: Counter = field(default_factory=Counter)  # reason -> n
    problems: list[str] = field(default_factory=list)  # items that couldn't be drawn
    heldout_concepts: list[str] = field(default_factory=list)

    def table(self) -> dict:
        out: dict = {}
        for (kind, split), n in sorted(self.counts.items()):
            out.setdefault(kind, {})[split] = n
        return out


# --- text helpers -------------------------------------------------------------------------


_BLOCK_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|\||#|```|\$\$|>)|^ {4}")


_ITEM_START = re.compile(r"^\s{0,3}([-*+]\s|\d+[.)]\s|\|)")


def _unwrap(para: str) -> str:
    """Join a paragraph's soft line breaks (Markdown source wrapping); lists, tables,
    headings, code and display math keep their lines."""
    lines = para.split("\n")
    if any(_BLOCK_LINE.match(line) for line in lines):
        return para
    return " ".join(line.strip() for line in lines)


def _paragraphs(text: str) -> list[str]:
    return [_unwrap(p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _balanced(text: str) -> bool:
    return text.count("$") % 2 == 0


def _partial(para: str, room: int) -> str:
    """The longest head of a paragraph within `room` characters: whole lines of a block
    (list, table), else whole sentences; never an unbalanced $…$."""
    block = any(_BLOCK_LINE.match(line) for line in para.split("\n"))
    if block:  # whole list items / table rows: a continuation line stays with its item
        pieces: list[str] = []
        for line in para.split("\n"):
            if pieces and not _ITEM_START.match(line):
                pieces[-1] += "\n" + line
            else:
                pieces.append(line)
    else:
        pieces = re.split(r"(?<=[.!?])\s+", para)
    joiner = "\n" if block else " "
    out = ""
    for piece in pieces:
        candidate = (out + joiner + piece) if out else piece
        if len(candidate) > room:
            break
        out = candidate
    while out and not _balanced(out):
        out = joiner.join(out.split(joiner)[:-1])
    return out


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """Whole paragraphs up to `limit` characters (stopping after half of it), then, when
    little was taken or the last one introduces what follows (ends with ':'), the head of
    the next one; never cutting a $…$ formula in two."""
    out = ""
    for para in _paragraphs(text):
        candidate = (out + "\n\n" + para) if out else para
        if len(candidate) <= limit:
            out = candidate
            if len(out) >= limit // 2 and not out.endswith(":"):
                break
            continue
        if not out or out.endswith(":") or len(out) < limit // 4:
            head = _partial(para, limit - len(out) - 2)
            if head:
                out = (out + "\n\n" + head) if out else head
        if not out:
            out = para[:limit].rsplit(" ", 1)[0] + " …"
            if not _balanced(out):
                out = out.replace("$", "")
        break
    if out.endswith(":"):  # an introduction without what it introduces
        out = "\n\n".join(out.split("\n\n")[:-1])
    return out


def _lead(lead: str, text: str) -> str:
    """A lead-in before quoted material; on its own line when the material opens with a block."""
    if lead and _BLOCK_LINE.match(text):
        return lead.rstrip() + "\n\n" + text
    return lead + text


def _term_regex(term: str) -> re.Pattern:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?:s|es)?(?!\w)", re.I)


# --- dialogue assembly --------------------------------------------------------------------


def _with_calculator(item: ItemSpec, v: Variant, answer: str) -> str:
    """A template's answer worked out with the calculator tool first: the tutor writes the
    card's answer formula, the tool evaluates it with the ITEM line's values bound
    (`<|calc|>k*a/b<|calc_end|><|result|>16/5<|result_end|> 16/5`), and the tutor states the
    result, instead of doing exact arithmetic in its head. Kept only when the result checks as
    the answer."""
    formula = calc_formula(item)
    if formula is None:
        return answer
    result = evaluate_in(item, v.values, formula)
    stated = result + (f" {item.units[0]}" if item.units else "")
    if result.startswith("error") or not check_answer(v.key, stated).correct:
        return answer
    return f"{CALC}{formula}{CALC_END}{RESULT}{result}{RESULT_END} {stated}"


def _system(
    course: CourseSpec,
    concept: ConceptSpec,
    problem: str | None = None,
    templates: Sequence[str] = (),
    checker: str | None = None,
) -> dict:
    """The system turn: course, concept, the problem at hand, template cards, and what the
    course's checker said about the learner's answer (``checker``: the matched
    misconception's diagnosis, or that none matched) - known wherever the reply is asked for."""
    text = f"Course: {course.title}. Concept: {concept.title}."
    if problem:
        text += f"\nProblem: {problem}"
    if checker:
        text += f"\nChecker: {checker}"
    for card in templates:
        text += "\n" + card
    return {"role": "system", "content": text}


# how many of the concept's templates at the asked difficulty a practice request shows: one
# (the one to vary) keeps the request within the default tutor's 256-token context
PRACTICE_CARDS = 1


def practice_templates(
    concept: ConceptSpec, difficulty: str, rng: random.Random, include: ItemSpec | None = None
) -> list[str]:
    """The template cards a practice-question request carries in its system turn: up to
    ``PRACTICE_CARDS`` of the concept's templates at ``difficulty`` (all its templates when
    none is at that difficulty), in random order, ``include`` always among them."""
    pool = [it for it in concept.items if it.is_template and it.params]
    at = [it for it in pool if difficulty_bucket(it.difficulty) == difficulty] or pool
    others = [it for it in at if it is not include]
    shown = rng.sample(others, min(len(others), PRACTICE_CARDS - (include is not None)))
    if include is not None:
        shown.append(include)
    rng.shuffle(shown)
    return [
        template_card(item_ref(concept.slug, it.slug), it, difficulty_bucket(it.difficulty)) for it in shown
    ]


def practice_request(
    course: CourseSpec,
    concept: ConceptSpec,
    difficulty: str,
    rng: random.Random,
    include: ItemSpec | None = None,
) -> list[dict]:
    """The system and learner turns of a request for a practice question of ``difficulty``:
    the template cards it may use, and the learner's ask (the study loop's practice pool asks
    the model the same way)."""
    ask = rng.choice(P.PRACTICE_ASK).format(
        diff=P.DIFFICULTY_WORDS[difficulty], diff_word=difficulty, title_lc=P.lower_title(concept.title)
    )
    return [
        _system(course, concept, templates=practice_templates(concept, difficulty, rng, include)),
        {"role": "learner", "content": ask},
    ]


def _dialogue(did, kind, course, concept, messages, **meta) -> dict:
    meta = {"source": SOURCE, "kind": kind, "course": course.slug, "concept": concept.slug, **meta}
    return {
        "id": did,
        "task": KINDS[kind],
        "course": course.slug,
        "concept": concept.slug,
        "split": "train",
        "messages": messages,
        "meta": {k: v for k, v in meta.items() if v is not None},
    }


def _moment_dialogue(did, kind, course, concept, situation: Situation, reply: str, **meta) -> dict:
    """A dialogue prompted exactly as the study loop prompts the model at this kind's moment,
    with the tutor's ``reply`` to learn."""
    prompt = prompt_dialogue(MOMENT_OF[kind], situation)
    messages = prompt["messages"] + [{"role": "tutor", "content": reply}]
    return _dialogue(did, kind, course, concept, messages, **meta)


def _recent_answers(concept: ConceptSpec, rng: random.Random) -> tuple[str, ...]:
    """What the chat prompt shows of a learner's latest answers on the concept: half the time
    none (a learner who hasn't answered yet), else one to three, right or wrong."""
    if rng.random() < 0.5 or not concept.items:
        return ()
    out = []
    for _ in range(rng.randint(1, 3)):
        item = rng.choice(concept.items)
        try:
            v = draw_variant(item, rng.randrange(1_000_000), concept_misconceptions=concept.misconceptions)
        except VariantError:
            continue
        if rng.random() < 0.6:
            said, verdict = answer_text(correct_answer(v.key)), "right"
        else:
            wrong = unmatched_answer(v.key, rng, [])
            if wrong is None:
                continue
            said, verdict = answer_text(wrong), "wrong"
        said = " ".join(said.split())
        if said and len(said) <= 60:
            out.append(f"{said} ({verdict})")
    return tuple(out)


def _situation(course: CourseSpec, concept: ConceptSpec, **fields) -> Situation:
    return Situation(course=course.title, concept=concept.title, **fields)


def _problem(item: ItemSpec, v: Variant) -> str:
    """The variant as the learner sees it (an ordering's steps in the variant's shuffled order)."""
    if item.type == "ordering":
        return v.prompt + "\n" + "\n".join(f"- {c}" for c in v.choices)
    return question_text(item, v.prompt, v.choices)


def _said_answer(item: ItemSpec, answer) -> str:
    """A wrong answer as the learner typed it on the study page (an ordering: one step a line)."""
    if item.type == "ordering":
        return "\n".join(answer)
    return answer_text(answer)


# --- per concept --------------------------------------------------------------------------


def _explain(course, concept, seed, per_item, report) -> list[dict]:
    out = []
    for level in concept.material:
        text = excerpt(level.text)
        if not text:
            continue
        for i in range(per_item):
            rng = _rng(seed, course.slug, concept.slug, "explain", level.name, i)
            how = rng.choice(P.LEVEL_WORDS[level.name])
            ask = rng.choice(P.EXPLAIN_ASK).format(
                title=concept.title,
                title_lc=P.lower_title(concept.title),
                how=how,
                How_cap=how[:1].upper() + how[1:],
            )
            reply = _lead(rng.choice(P.EXPLAIN_LEAD), text) + "\n\n" + rng.choice(P.EXPLAIN_CLOSE)
            situation = _situation(course, concept, candidates=(("Material", text),), request=ask)
            out.append(
                _moment_dialogue(
                    f"ramp-{course.slug}-{concept.slug}-explain-{level.name}-{i}",
                    "explain",
                    course,
                    concept,
                    situation,
                    reply,
                    level=level.name,
                    seed=seed,
                )
            )
    return out


def _find_passage(concept: ConceptSpec, term: str) -> tuple[str, str] | None:
    """(level, text from the paragraph defining `term` on): a paragraph with it in bold
    first, else the first paragraph mentioning it (intuition, formal, worked-example)."""
    rx = _term_regex(term)
    bold = re.compile(r"\*\*[^*]*" + rx.pattern[len("(?<!\\w)") : -len("(?!\\w)")] + r"[^*]*\*\*", re.I)
    for pattern in (bold, rx):
        for level in concept.material:
            paras = _paragraphs(level.text)
            for i, para in enumerate(paras):
                if pattern.search(para):
                    return level.name, "\n\n".join(paras[i:])
    return None


def _answer_questions(course, concept, seed, per_item, report) -> list[dict]:
    out = []
    asks = [(t, _find_passage(concept, t)) for t in concept.introduces]
    if not concept.introduces and concept.material:
        first = _paragraphs(concept.material[0].text)
        asks = [(None, (concept.material[0].name, first[0]))] if first else []
    for term, found in asks:
        if found is None:
            report.skipped["answer_question: term not in material"] += 1
            continue
        level, para = found
        text = excerpt(para)
        if not text:
            continue
        seen = set()
        for i in range(per_item):
            rng = _rng(seed, course.slug, concept.slug, "question", term, i)
            templates = P.QUESTION_ASK_TERM if term else P.QUESTION_ASK_TITLE
            ask = rng.choice(templates).format(term=term, title_lc=P.lower_title(concept.title))
            if ask in seen:
                continue
            seen.add(ask)
            reply = _lead(rng.choice(P.QUESTION_LEAD), text) + "\n\n" + rng.choice(P.QUESTION_CLOSE)
            slug = re.sub(r"[^a-z0-9]+", "-", (term or "about").lower()).strip("-")
            situation = _situation(
                course,
                concept,
                candidates=(("Material", text),),
                request=ask,
                recent=_recent_answers(concept, rng),
            )
            out.append(
                _moment_dialogue(
                    f"ramp-{course.slug}-{concept.slug}-question-{slug}-{i}",
                    "answer_question",
                    course,
                    concept,
                    situation,
                    reply,
                    level=level,
                    term=term,
                    seed=seed,
                )
            )
    return out


# --- per item variant ---------------------------------------------------------------------


def _variant_seeds(seed: int, course, concept, item, n: int) -> list[int]:
    return [
        int(_unit(seed, course.slug, concept.slug, item.slug, "variant", i) * 1_000_000) for i in range(n)
    ]


def _item_dialogues(course, concept, item, vseed, i, seed, others, report) -> list[dict]:
    try:
        v = draw_variant(item, vseed, concept_misconceptions=concept.misconceptions)
    except VariantError as e:
        report.problems.append(f"{course.slug}/{concept.slug}/{item.slug} variant {vseed}: {e}")
        return []
    key = v.key
    forms = answer_forms(key)
    correct = correct_answer(key)
    ans = answer_text(correct)  # as typed (with the unit): the practice question's answer
    problem = _problem(item, v)
    base = dict(item=item.slug, variant=vseed, seed=seed, answer=forms[0], item_type=item.type)
    if len(forms) > 1:
        base["answer_forms"] = forms
    stem = f"ramp-{course.slug}-{concept.slug}-{item.slug}"
    hint_ok = [not reveals_any(h, forms) and not _PLACEHOLDER.search(h) for h in v.hints]
    first_hint = v.hints[0] if v.hints and hint_ok[0] else ""
    out = []

    # next hint: the learner has seen k hints and asks for one more; the tutor gives hint k
    n_safe = next((j for j, ok in enumerate(hint_ok) if not ok), len(hint_ok))
    if n_safe:
        rng = _rng(seed, stem, "next_hint", i)
        k = i % n_safe if n_safe > 1 else 0
        k = rng.choice([k, rng.randrange(n_safe)])
        shown = tuple(("Hint shown", h) for h in v.hints[:k])
        ask = rng.choice(P.STUCK_AGAIN if k else P.STUCK_FIRST) if rng.random() < 0.5 else ""
        situation = _situation(
            course, concept, problem=problem, candidates=(*shown, ("Hint", v.hints[k])), request=ask
        )
        reply = rng.choice(P.HINT_REPLY).format(hint=v.hints[k])
        out.append(
            _moment_dialogue(
                f"{stem}-next_hint-{i}", "next_hint", course, concept, situation, reply, hint_index=k, **base
            )
        )
    elif v.hints:
        report.skipped["next_hint: first hint would reveal the answer"] += 1

    # try first: "how do I solve this?" -> "how would you start?" (+ the first hint)
    rng = _rng(seed, stem, "try_first", i)
    if first_hint:
        reply = rng.choice(P.TRY_FIRST_REPLY).format(hint=first_hint)
        candidates = (("Hint", first_hint),)
    else:
        reply = rng.choice(P.TRY_FIRST_NO_HINT)
        candidates = ()
    situation = _situation(
        course, concept, problem=problem, candidates=candidates, request=rng.choice(P.HOW_ASK)
    )
    out.append(
        _moment_dialogue(f"{stem}-try_first-{i}", "try_first", course, concept, situation, reply, **base)
    )

    # wrong answers that match a misconception -> the misconception's probe, asked of this
    # learner; then, when they have answered it, the first hint
    rendered = {m.slug: m for m in v.misconceptions}
    for mk in key.misconceptions:
        m = rendered.get(mk.slug)
        if m is None or not m.probe.strip() or _PLACEHOLDER.search(m.probe):
            report.skipped["probe_misconception: no usable probe"] += 1
            continue
        if reveals_any(m.probe, forms):
            report.skipped["probe_misconception: probe would reveal the answer"] += 1
            continue
        rng = _rng(seed, stem, "probe", mk.slug, i)
        wrong = misconception_answer(key, mk.slug, rng)
        if wrong is None:
            report.skipped["probe_misconception: no answer matching it in this variant"] += 1
            continue
        said = _said_answer(item, wrong)
        probe = " ".join(m.probe.split())
        ack = rng.choice(P.PROBE_ACK).format(a=said) if rng.random() < 0.8 else rng.choice(P.PROBE_OPEN)
        reply = ack + probe
        if reveals_beyond(reply, said, forms):
            report.skipped["probe_misconception: reply would reveal the answer"] += 1
            continue
        situation = _situation(
            course,
            concept,
            problem=problem,
            answer=said,
            checker=checker_line(m.diagnosis),
            candidates=(("Probe", probe),),
        )
        meta = dict(
            misconception=mk.slug,
            diagnosis=m.diagnosis,
            wrong_answer=answer_text(wrong),
            probe_terms=sorted(content_terms(m.probe)),
            **base,
        )
        out.append(
            _moment_dialogue(
                f"{stem}-probe-{mk.slug}-{i}",
                "probe_misconception",
                course,
                concept,
                situation,
                reply,
                **meta,
            )
        )
        followup = (
            rng.choice(P.FOLLOWUP_LEAD).format(hint=first_hint)
            if first_hint
            else rng.choice(P.FOLLOWUP_NO_HINT)
        )
        if not reveals_beyond(followup, said, forms):
            answered = _situation(
                course,
                concept,
                problem=problem,
                answer=said,
                checker=checker_line(m.diagnosis),
                candidates=(("Probe", probe),) + ((("Hint", first_hint),) if first_hint else ()),
                said=(("learner", said), ("tutor", reply)),
                request=rng.choice(P.PROBE_REPLY),
            )
            out.append(
                _moment_dialogue(
                    f"{stem}-followup-{mk.slug}-{i}",
                    "probe_followup",
                    course,
                    concept,
                    answered,
                    followup,
                    **meta,
                )
            )

    # a wrong answer that matches no misconception -> how did you get it? (probe, don't tell)
    rng = _rng(seed, stem, "unmatched", i)
    wrong = unmatched_answer(
        key,
        rng,
        [o for o in others if o not in forms],
        accept=lambda a: not reveals_any(answer_text(a), forms),
    )
    if wrong is None:
        report.skipped["unmatched_mistake: no unmatched wrong answer"] += 1
    else:
        shown = wrong[0] if item.type == "ordering" else wrong
        pool = {"multiple_choice": P.UNMATCHED_ASK_CHOICE, "ordering": P.UNMATCHED_ASK_ORDER}
        reply = rng.choice(pool.get(item.type, P.UNMATCHED_ASK)).format(a=shown)
        if reveals_beyond(reply, answer_text(shown), forms):
            report.skipped["unmatched_mistake: reply would reveal the answer"] += 1
        else:
            situation = _situation(
                course, concept, problem=problem, answer=_said_answer(item, wrong), checker=checker_line(None)
            )
            out.append(
                _moment_dialogue(
                    f"{stem}-unmatched-{i}",
                    "unmatched_mistake",
                    course,
                    concept,
                    situation,
                    reply,
                    wrong_answer=answer_text(wrong),
                    probe_terms=sorted(content_terms(answer_text(wrong))),
                    **base,
                )
            )

    # a new practice question of this item's difficulty, structured
    if item.is_template and item.params:
        rng = _rng(seed, stem, "practice", i)
        diff = difficulty_bucket(item.difficulty)
        ref = item_ref(concept.slug, item.slug)
        question = question_text(item, v.prompt, tuple(key.choices))
        content = practice_text(ref, params_json(item, v.values), question, _with_calculator(item, v, ans))
        out.append(
            _dialogue(
                f"{stem}-practice-{i}",
                "practice_question",
                course,
                concept,
                practice_request(course, concept, diff, rng, include=item)
                + [{"role": "tutor", "content": content}],
                item=ref,
                variant=vseed,
                seed=seed,
                difficulty=diff,
                item_type=item.type,
            )
        )
    return out


# --- entry points -------------------------------------------------------------------------


def course_dialogues(
    course: CourseSpec,
    *,
    seed: int = 0,
    per_item: int = 2,
    kinds: Sequence[str] = tuple(KINDS),
    report: BuildReport | None = None,
    practice_per_item: int | None = None,
) -> list[dict]:
    """Every dialogue of one course (all split 'train'; `build_dialogues` assigns splits).
    ``practice_per_item`` (> per_item) adds practice questions from further variants: the
    practice answer (substituting values into the card's expression) needs more examples
    than the other kinds."""
    report = report if report is not None else BuildReport()
    short_texts = sorted(
        {
            a
            for c in course.concepts
            for it in c.items
            if it.type == "short_text"
            for a in it.answers
            if "{" not in a
        }
    )
    out: list[dict] = []
    for concept in course.concepts:
        if "explain" in kinds:
            out += _explain(course, concept, seed, per_item, report)
        if "answer_question" in kinds:
            out += _answer_questions(course, concept, seed, per_item, report)
        for item in concept.items:
            n = max(per_item, practice_per_item or 0) if "practice_question" in kinds else per_item
            for i, vseed in enumerate(_variant_seeds(seed, course, concept, item, n)):
                out += [
                    d
                    for d in _item_dialogues(course, concept, item, vseed, i, seed, short_texts, report)
                    if d["meta"]["kind"] in kinds
                    and (i < per_item or d["meta"]["kind"] == "practice_question")
                ]
    for d in out:
        validate(d)
    return out


def choose_heldout_concepts(
    courses: Sequence[CourseSpec], *, seed: int = 0, fraction: float = 0.15
) -> list[str]:
    """A deterministic `fraction` of each course's concepts (at least one when a course has 3
    or more, never all), by hash of (seed, course, concept)."""
    chosen = []
    for course in courses:
        slugs = sorted(
            (c.slug for c in course.concepts), key=lambda s: _unit(seed, "heldout", course.slug, s)
        )
        n = round(fraction * len(slugs))
        if fraction > 0 and len(slugs) >= 3:
            n = max(1, n)
        chosen += slugs[: min(n, len(slugs) - 1)]
    return sorted(set(chosen))


def build_dialogues(
    courses: Sequence[CourseSpec],
    *,
    seed: int = 0,
    per_item: int = 2,
    heldout_concepts: Iterable[str] | None = None,
    heldout_concept_fraction: float = 0.15,
    heldout_courses: Iterable[str] = (),
    heldout_fraction: float = 0.05,
    kinds: Sequence[str] = tuple(KINDS),
    report: BuildReport | None = None,
    practice_per_item: int | None = None,
) -> list[dict]:
    """Dialogues for every course, with `split` set by `models_train.dialogue.split_dialogues`:
    every dialogue of a held-out concept (default: `choose_heldout_concepts`) or course is
    held out, plus a hash-of-id `heldout_fraction` of the rest."""
    report = report if report is not None else BuildReport()
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; known: {list(KINDS)}")
    dialogues = []
    for course in courses:
        dialogues += course_dialogues(
            course,
            seed=seed,
            per_item=per_item,
            kinds=kinds,
            report=report,
            practice_per_item=practice_per_item,
        )
    ids = Counter(d["id"] for d in dialogues)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        raise ValueError(f"duplicate dialogue ids (two courses with one slug?): {dup[:3]}")
    if heldout_concepts is None:
        heldout_concepts = choose_heldout_concepts(courses, seed=seed, fraction=heldout_concept_fraction)
    heldout_concepts = sorted(set(heldout_concepts))
    report.heldout_concepts = heldout_concepts
    train, held = split_dialogues(
        dialogues,
        heldout_concepts=heldout_concepts,
        heldout_courses=heldout_courses,
        heldout_fraction=heldout_fraction,
        seed=seed,
    )
    held_ids = {d["id"] for d in held}
    for d in dialogues:
        d["split"] = "heldout" if d["id"] in held_ids else "train"
        report.counts[(d["meta"]["kind"], d["split"])] += 1
    return dialogues
