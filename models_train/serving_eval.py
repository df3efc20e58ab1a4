"""The production path, measured: what learners would read from a model, moment by moment, on
concepts it never trained on.

The cases are built from the ramps' held-out concepts (``factory.choose_heldout_concepts``,
the split training used) the way the study loop builds them: a wrong answer matching each
misconception and one matching none, every hint of a question, every level of the material,
a learner's question about each term the concept introduces, practice questions at each
difficulty its templates cover. Each case goes through ``models_train.speaking`` exactly as a
learner's would (prompt, model, guards, fallback), with the learner at that concept (its
prerequisites reached, nothing beyond). Reported per moment:

- ``served_share``: messages the learner reads in the model's words (the rest: authored text);
- ``reveal_before_guard`` / ``reveal_after_guard``: model replies that give the answer away,
  as written and as served (the latter checked again independently of the guard);
- ``grounded``: served messages whose numbers and domain terms are all in their context;
- ``probing`` (mistakes): served replies that probe (``scoring.is_probing``);
- refusals by reason, and seconds to the first words and to the whole reply (one at a time;
  replies under load are the load benchmark's);
- practice: requests, questions the model chose that the course's code could render and key
  (``yield``; all of them verified by construction), ``served_share`` = yield.

    summary = evaluate_serving(tutor_model, courses, per_item=1, report_path="report.md")
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from courses.checkers import answer_as_input, check_answer
from courses.specs import ConceptSpec, CourseSpec
from courses.variants import VariantError, draw_variant
from models_train.factory.answers import answer_forms, answer_text, misconception_answer, unmatched_answer
from models_train.factory.builder import choose_heldout_concepts
from models_train.factory.phrasing import QUESTION_ASK_TERM, QUESTION_ASK_TITLE, lower_title
from models_train.guards import Guard, domain_vocabulary, reveals
from models_train.scoring import is_probing, reveals_answer
from models_train.speaking import (
    Moment,
    chat_moment,
    difficulties,
    explain_moment,
    hint_moment,
    mistake_moment,
    problem_text,
    speak,
    write_practice,
)

MOMENTS = ("mistake", "hint", "explain", "chat")


@dataclass
class Case:
    moment: Moment
    course: str
    concept: str
    note: str = ""  # what kind of case (matched misconception slug, hint index, level, term)
    forms: tuple[str, ...] = ()  # every spelling of the answer the reply must keep back
    probe_context: str = ""  # the problem, the learner's answer and the probe (mistakes)


@dataclass
class Result:
    case: Case
    shown: str
    source: str
    reason: str
    detail: str
    raw: str
    first_s: float | None
    total_s: float
    reveal_before: bool | None = None
    reveal_after: bool | None = None
    grounded: bool | None = None
    probing: bool | None = None


@dataclass
class PracticeResult:
    course: str
    concept: str
    difficulty: str
    question: str = ""
    ref: str = ""
    reason: str = ""
    verified: bool = False
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)


def _reached(course: CourseSpec, concept: ConceptSpec) -> frozenset[str]:
    """A learner at ``concept``: it and everything it builds on."""
    prereqs = {c.slug: set(c.prerequisites) for c in course.concepts}
    seen, todo = {concept.slug}, [concept.slug]
    while todo:
        for p in prereqs.get(todo.pop(), ()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return frozenset(f"{course.slug}/{slug}" for slug in seen)


def concept_cases(course: CourseSpec, concept: ConceptSpec, *, per_item: int, seed: int) -> list[Case]:
    """Every moment of one concept, as the study loop would meet them."""
    cases: list[Case] = []
    rng = random.Random(f"{seed}:{course.slug}:{concept.slug}")
    names = dict(course=course.title, concept=concept.title)
    first_key = None
    for item in concept.items:
        for k in range(per_item):
            try:
                v = draw_variant(item, seed * 1000 + k, concept_misconceptions=concept.misconceptions)
            except VariantError:
                continue
            first_key = first_key or v.key
            forms = tuple(answer_forms(v.key))
            problem = problem_text(item.type, v)
            rendered = {m.slug: m for m in v.misconceptions}
            for mk in v.key.misconceptions:
                wrong = misconception_answer(v.key, mk.slug, rng)
                if wrong is None or mk.slug not in rendered:
                    continue
                said = "\n".join(wrong) if item.type == "ordering" else answer_text(wrong)
                m = rendered[mk.slug]
                moment = mistake_moment(**names, item_type=item.type, variant=v, answer=said, misconception=m)
                cases.append(
                    Case(
                        moment,
                        course.slug,
                        concept.slug,
                        f"misconception {mk.slug}",
                        forms,
                        f"{problem} {said} {m.probe}",
                    )
                )
            wrong = unmatched_answer(v.key, rng, [], accept=lambda a, f=forms: answer_text(a) not in f)
            if wrong is not None:
                said = "\n".join(wrong) if item.type == "ordering" else answer_text(wrong)
                moment = mistake_moment(
                    **names, item_type=item.type, variant=v, answer=said, misconception=None
                )
                cases.append(
                    Case(moment, course.slug, concept.slug, "no misconception", forms, f"{problem} {said}")
                )
            for index in range(len(v.hints)):
                moment = hint_moment(**names, item_type=item.type, variant=v, shown=index)
                cases.append(Case(moment, course.slug, concept.slug, f"hint {index + 1}", forms))
    material = [(level.name, level.text) for level in concept.material]
    for level, _ in material:
        moment = explain_moment(**names, material=material, level=level, key=first_key)
        cases.append(Case(moment, course.slug, concept.slug, f"explain {level}"))
    asks = [rng.choice(QUESTION_ASK_TERM).format(term=t) for t in concept.introduces]
    asks.append(rng.choice(QUESTION_ASK_TITLE).format(title_lc=lower_title(concept.title)))
    for question in asks:
        moment = chat_moment(**names, question=question, material=material, key=first_key)
        cases.append(Case(moment, course.slug, concept.slug, f"chat: {question}"))
    return cases


def _percentiles(values: Sequence[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": round(statistics.median(ordered), 3), "p95": at(0.95), "n": len(ordered)}


def run_case(model, case: Case, *, vocabulary: dict, reached: frozenset[str]) -> Result:
    outcome = speak(model, case.moment, vocabulary=vocabulary, reached=reached)
    key = case.moment.key
    result = Result(
        case,
        outcome.shown,
        outcome.source,
        outcome.verdict.reason,
        outcome.verdict.detail,
        outcome.raw,
        outcome.first_text_s,
        outcome.total_s,
    )
    if key is not None and outcome.raw:
        result.reveal_before = bool(reveals(outcome.raw, key)) or any(
            reveals_answer(outcome.raw.replace(case.moment.situation.answer, " "), f) for f in case.forms if f
        )
    if outcome.source == "model":
        text = outcome.shown
        if key is not None:
            said = case.moment.situation.answer
            bare = text.replace(said, " ") if said else text
            result.reveal_after = bool(reveals(text, key)) or any(
                reveals_answer(bare, f) for f in case.forms if f
            )
        result.grounded = not Guard(context=case.moment.context(), vocabulary=vocabulary).check(text).refused
        if case.moment.kind == "mistake":
            result.probing = is_probing(
                text, answer=case.forms[0] if case.forms else None, probe=case.probe_context
            )
    return result


def summarise(results: Sequence[Result], practice: Sequence[PracticeResult]) -> dict:
    out: dict = {}
    for kind in MOMENTS:
        rows = [r for r in results if r.case.moment.kind == kind]
        if not rows:
            continue
        served = [r for r in rows if r.source == "model"]

        def share(values):
            values = [v for v in values if v is not None]
            return round(sum(values) / len(values), 4) if values else None

        out[kind] = {
            "n": len(rows),
            "served_share": round(len(served) / len(rows), 4),
            "reveal_before_guard": share(r.reveal_before for r in rows),
            "reveal_after_guard": share(r.reveal_after for r in served) or 0.0,
            "grounded": share(r.grounded for r in served),
            "refusals": dict(Counter(r.reason for r in rows if r.reason).most_common()),
            "first_text_s": _percentiles([r.first_s for r in served if r.first_s is not None]),
            "total_s": _percentiles([r.total_s for r in rows]),
        }
        if kind == "mistake":
            out[kind]["probing"] = share(r.probing for r in served)
    if practice:
        made = [p for p in practice if p.question]
        out["practice"] = {
            "requests": len(practice),
            "questions": len(made),
            "yield": round(len(made) / len(practice), 4),
            "served_share": round(len(made) / len(practice), 4),
            "verified": round(sum(p.verified for p in made) / len(made), 4) if made else None,
            "failures": dict(Counter(p.reason for p in practice if p.reason).most_common(5)),
            "seconds": _percentiles([p.seconds for p in practice]),
        }
    served = [r for r in results if r.source == "model" and r.reveal_after is not None]
    out["reveal_after_guard"] = round(sum(r.reveal_after for r in served) / len(served), 4) if served else 0.0
    return out


def evaluate_serving(
    model,
    courses: Sequence[CourseSpec],
    *,
    heldout_concepts: Sequence[str] | None = None,
    per_item: int = 1,
    practice_per_difficulty: int = 2,
    seed: int = 0,
    max_cases: int | None = None,
    report_path: str | Path | None = None,
    report_cases: int = 40,
    log=print,
) -> dict:
    """The production path's numbers on the held-out concepts of ``courses`` (the same split
    training held out, unless given); a readable report of ``report_cases`` sampled cases."""
    heldout = set(
        heldout_concepts if heldout_concepts is not None else choose_heldout_concepts(courses, seed=0)
    )
    vocabulary = domain_vocabulary(
        [
            (c.slug, concept.slug, [concept.title, *concept.introduces])
            for c in courses
            for concept in c.concepts
        ]
    )
    results: list[Result] = []
    practice: list[PracticeResult] = []
    started = time.perf_counter()
    for course in courses:
        for concept in course.concepts:
            if concept.slug not in heldout:
                continue
            reached = _reached(course, concept)
            cases = concept_cases(course, concept, per_item=per_item, seed=seed)
            for case in cases:
                results.append(run_case(model, case, vocabulary=vocabulary, reached=reached))
            for difficulty in difficulties(concept):
                for k in range(practice_per_difficulty):
                    t0 = time.perf_counter()
                    written, reason = write_practice(
                        model, course=course, concept=concept, difficulty=difficulty, seed=seed * 100 + k
                    )
                    row = PracticeResult(
                        course.slug, concept.slug, difficulty, reason=reason, seconds=time.perf_counter() - t0
                    )
                    if written is not None:
                        row.question, row.ref = written.variant.prompt, written.ref
                        shown = answer_as_input(written.variant.key)[0]
                        row.verified = check_answer(written.variant.key, shown).correct
                    practice.append(row)
            log(f"{course.slug}/{concept.slug}: {len(cases)} cases, {time.perf_counter() - started:.0f} s")
            if max_cases and len(results) >= max_cases:
                break
    summary = {
        "heldout_concepts": sorted(heldout),
        "cases": len(results),
        "wall_s": round(time.perf_counter() - started, 1),
        **summarise(results, practice),
    }
    if report_path is not None:
        write_report(report_path, summary, results, practice, n=report_cases, seed=seed)
    return summary


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in (text or "(nothing)").splitlines()) or "> (nothing)"


def write_report(
    path, summary: dict, results: Sequence[Result], practice: Sequence[PracticeResult], *, n: int, seed: int
) -> Path:
    """A Markdown report a person can judge the words by: ``n`` sampled cases, each with its
    context, the model's raw reply, what the guards did and what the learner was shown."""
    rng = random.Random(seed)
    by_kind = {kind: [r for r in results if r.case.moment.kind == kind] for kind in MOMENTS}
    chosen: list[Result] = []
    per_kind = max(1, n // max(1, sum(1 for rows in by_kind.values() if rows)))
    for rows in by_kind.values():
        chosen += rng.sample(rows, min(per_kind, len(rows)))
    lines = [
        "# The tutor model on held-out concepts: sampled cases",
        "",
        f"{summary['cases']} cases on {', '.join(summary['heldout_concepts'])}; {len(chosen)} shown below.",
        "",
        "| moment | served from the model | reveals before / after the guard | probing |",
        "|---|---|---|---|",
    ]
    for kind in MOMENTS:
        s = summary.get(kind)
        if s:
            lines.append(
                f"| {kind} | {s['served_share']:.0%} of {s['n']} | {s['reveal_before_guard']} / "
                f"{s['reveal_after_guard']} | {s.get('probing', '')} |"
            )
    if "practice" in summary:
        p = summary["practice"]
        lines.append(f"| practice | {p['yield']:.0%} of {p['requests']} requests | - | - |")
    for i, r in enumerate(chosen, 1):
        d = r.case.moment.dialogue()
        lines += [
            "",
            f"## {i}. {r.case.moment.kind}: {r.case.course}/{r.case.concept} ({r.case.note})",
            "",
            "**Prompt**",
            "",
            "```",
            *[f"[{m['role']}] {m['content']}" for m in d["messages"]],
            "```",
            "",
            "**The model wrote**",
            "",
            _quote(r.raw),
            "",
            f"**Guards**: {'passed' if not r.reason else f'refused: {r.reason} ({r.detail})'}",
            "",
            f"**The learner read** ({'the model' if r.source == 'model' else 'the authored text'})",
            "",
            _quote(r.shown),
        ]
    if practice:
        lines += ["", "## Practice questions the model chose", ""]
        for p in practice[: max(4, n // 8)]:
            what = p.question if p.question else f"none ({p.reason})"
            lines.append(f"- {p.course}/{p.concept}, {p.difficulty}: {what}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
