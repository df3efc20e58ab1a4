"""The ramp checks: what makes a loadable ramp a bad one.

    python -m courses.ramp_checks ramps/fractions-to-linear-equations   # or a .zip

prints one finding per line (`file:line: severity: [concept/item] message`, the file relative
to the ramp folder, as import_ramp names it) and exits 1 when there are findings, 2 when the
ramp can't be read at all, 0 when it is clean.

Errors break learning: prerequisite cycles, unknown prerequisites, a course order that lists
a concept before its prerequisites, items whose own answer fails their checker (templates:
many variants are tried), templates whose constraints can't be satisfied, misconceptions
that also match the correct answer. Warnings: concepts without items, forward references
(text of a concept using a term introduced by a concept that is neither itself nor one of
its ancestors), concept-level misconceptions that fit no item or name values an item lacks.

Advice (:func:`ramp_advice`) is printed after the findings and shown on the course page but
blocks nothing (the exit status and publishing go by findings alone): a concept whose
questions are all rated about equally hard (a spread under ``ADVISED_SPREAD`` logits), so
practice can't follow a learner from first tries to mastery.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .checkers import answer_as_input, check_answer, matching_misconceptions
from .placeholders import PlaceholderError, placeholder_names
from .ramp_files import read_ramp
from .specs import MATCH_KINDS_FOR_TYPE, ConceptSpec, CourseSpec, ItemSpec, RampFileError
from .variants import UnsatisfiableError, VariantError, draw_variant

DEFAULT_VARIANTS = 40  # variants of each template whose answers are verified
# Between a first try right after the material and mastery a learner's proficiency moves about
# 3.5 logits; the practice band (0.6-0.9) covers 2 and the hints shown up front 1-1.5. So
# questions about a logit below to a logit above the typical one keep practice in the band
# all the way. On simulated learners (simulate_learners, 16 learners) the shipped ramps with
# questions spanning about 0.8 logits per concept kept 44% / 41% of practice in the band, and
# 59% / 52% once an easier and a harder question was written for every concept (spans 2.2-4.5;
# docs/placement-and-policy.md).
ADVISED_SPREAD = 2.0


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"; "advice" for ramp_advice
    check: str  # cycle, unknown-prerequisite, order, no-items, answer-fails, unsatisfiable,
    #             variant, misconception-matches-answer, misconception-fits-nothing,
    #             placeholder, forward-reference; advice: narrow-difficulty
    file: str  # relative to the ramp root
    line: int
    concept: str
    item: str | None
    message: str

    def __str__(self) -> str:
        where = self.concept + (f"/{self.item}" if self.item else "")
        return f"{self.file}:{self.line}: {self.severity}: [{where}] {self.message}"


def check_ramp(course: CourseSpec, *, variants: int = DEFAULT_VARIANTS) -> list[Finding]:
    findings = list(_graph_findings(course))
    for concept in course.concepts:
        if not concept.items:
            findings.append(_at(concept, "warning", "no-items", 1, None, "has no items to practise"))
        findings.extend(_concept_misconception_findings(concept))
        for item in concept.items:
            findings.extend(_item_findings(concept, item, variants))
    findings.extend(_forward_references(course))
    return findings


def _at(concept: ConceptSpec, severity, check, line, item, message) -> Finding:
    return Finding(severity, check, concept.file, line, concept.slug, item, message)


def ramp_advice(course: CourseSpec) -> list[Finding]:
    """What would make the ramp teach better without being wrong: severity "advice", never a
    reason to refuse publishing."""
    out = []
    for concept in course.concepts:
        rated = [item.difficulty for item in concept.items]
        if not rated:
            continue  # no items at all is a warning already
        lo, hi = min(rated), max(rated)
        if hi - lo >= ADVISED_SPREAD:
            continue
        which = (
            f"its only question is rated {lo:+.1f}"
            if len(rated) == 1
            else f"its {len(rated)} questions are rated {lo:+.1f} to {hi:+.1f} "
            f"(a spread of {hi - lo:.1f} logits)"
        )
        first = concept.items[0]
        out.append(
            _at(
                concept,
                "advice",
                "narrow-difficulty",
                first.line_of("difficulty"),
                None,
                f"{which}: practice can follow a learner from first tries to mastery only with questions "
                f"from about a logit below the typical one to a logit above (a spread of "
                f"{ADVISED_SPREAD:.0f} or more). Add easier and harder questions, or rate these further "
                "apart if they really differ (calibration measures them once learners have answered).",
            )
        )
    return out


# --- the prerequisite graph ---------------------------------------------------------------


def unknown_prerequisites(course: CourseSpec) -> list[Finding]:
    """Prerequisites that name no concept of the course (such a ramp can't be imported)."""
    known = {c.slug for c in course.concepts}
    return [
        _at(
            c,
            "error",
            "unknown-prerequisite",
            c.line_of("prerequisites"),
            None,
            f"prerequisite {p} is not a concept of this course",
        )
        for c in course.concepts
        for p in c.prerequisites
        if p not in known
    ]


def _graph_findings(course: CourseSpec) -> Iterator[Finding]:
    yield from unknown_prerequisites(course)
    in_cycle: set[str] = set()
    for cycle in find_cycles(course):
        in_cycle.update(cycle)
        first = course.concept(cycle[0])
        yield _at(
            first,
            "error",
            "cycle",
            first.line_of("prerequisites"),
            None,
            "prerequisites form a cycle: " + " → ".join(cycle + [cycle[0]]) + " (→ reads 'builds on')",
        )
    position = {c.slug: i for i, c in enumerate(course.concepts)}
    for c in course.concepts:
        for p in c.prerequisites:
            if p in position and position[p] > position[c.slug] and c.slug not in in_cycle:
                yield Finding(
                    "error",
                    "order",
                    "course.yaml",
                    course.lines.get(f"concept:{c.slug}", 0),
                    c.slug,
                    None,
                    f"is listed before its prerequisite {p} in course.yaml",
                )


def find_cycles(course: CourseSpec) -> list[list[str]]:
    """One cycle per strongly connected group of concepts (Tarjan), as a list of slugs
    where each builds on the next and the last builds on the first."""
    edges = {c.slug: [p for p in c.prerequisites] for c in course.concepts}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]  # iterative: a long prerequisite chain is fine
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in edges), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    group.append(n)
                    if n == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(group)
    return [_cycle_in(set(g), edges) for g in groups]


def _cycle_in(group: set[str], edges: dict[str, list[str]]) -> list[str]:
    start = min(group)
    if start in edges[start]:
        return [start]
    parent = {start: None}
    queue = [start]
    for node in queue:  # breadth first: the shortest way back to start
        for nxt in edges[node]:
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1]
            if nxt in group and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return sorted(group)  # unreachable for a strongly connected group


def ancestors(course: CourseSpec, slug: str) -> set[str]:
    """Every concept `slug` builds on, directly or not (cycles and unknown slugs tolerated)."""
    by_slug = {c.slug: c for c in course.concepts}
    seen: set[str] = set()
    todo = list(by_slug[slug].prerequisites) if slug in by_slug else []
    while todo:
        s = todo.pop()
        if s in seen or s not in by_slug:
            continue
        seen.add(s)
        todo.extend(by_slug[s].prerequisites)
    seen.discard(slug)
    return seen


# --- items --------------------------------------------------------------------------------


def _item_findings(concept: ConceptSpec, item: ItemSpec, variants: int) -> Iterator[Finding]:
    seeds = range(variants) if item.is_template else range(1)
    reported: set[str] = set()
    for seed in seeds:
        try:
            v = draw_variant(item, seed, concept_misconceptions=concept.misconceptions)
        except UnsatisfiableError as e:
            yield _at(
                concept,
                "error",
                "unsatisfiable",
                item.line_of("constraints"),
                item.slug,
                f"template can't be instantiated: {e}",
            )
            return
        except VariantError as e:
            yield _at(concept, "error", "variant", item.line, item.slug, f"variant {seed}: {e}")
            return
        where = f" in variant {seed} ({_values(v.values)})" if v.values else ""
        try:
            yield from _answer_findings(concept, item, v, where, reported)
        except Exception as e:  # noqa: BLE001 — a check must report, never crash the checker
            yield _at(
                concept,
                "error",
                "variant",
                item.line,
                item.slug,
                f"variant {seed}: checking it failed ({type(e).__name__}: {e})",
            )
            return


def _answer_findings(concept: ConceptSpec, item: ItemSpec, v, where: str, reported: set) -> Iterator[Finding]:
    """The correct answer must grade correct and match no misconception."""
    for typed in answer_as_input(v.key):
        result = check_answer(v.key, typed)
        if not result.correct and "answer" not in reported:
            reported.add("answer")
            shown = " | ".join(typed) if isinstance(typed, list) else typed
            why = f": {result.message}" if result.message else ""
            yield _at(
                concept,
                "error",
                "answer-fails",
                item.line_of("answer"),
                item.slug,
                f"its own answer {shown} is graded {result.outcome}{where}{why}",
            )
        for slug in matching_misconceptions(v.key, typed):
            if slug not in reported:
                reported.add(slug)
                line = next(
                    (m.line for m in item.misconceptions + concept.misconceptions if m.slug == slug),
                    item.line,
                )
                yield _at(
                    concept,
                    "error",
                    "misconception-matches-answer",
                    line,
                    item.slug,
                    f"misconception {slug} also matches the correct answer{where}"
                    + ("; add a constraint that rules this out" if v.values else ""),
                )


def _values(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _concept_misconception_findings(concept: ConceptSpec) -> Iterator[Finding]:
    for m in concept.misconceptions:
        if m.match is not None and not any(
            m.match.kind in MATCH_KINDS_FOR_TYPE[i.type] for i in concept.items
        ):
            yield _at(
                concept,
                "warning",
                "misconception-fits-nothing",
                m.line,
                None,
                f"misconception {m.slug} matches with {m.match.kind}, which no item of this concept uses",
            )
        texts = [m.diagnosis, m.probe]
        try:
            used = {n for t in texts for n in placeholder_names(t)}
        except PlaceholderError:
            used = set()
        for item in concept.items:
            if used and item.is_template and not any(x.slug == m.slug for x in item.misconceptions):
                names = {p.name for p in item.params} | {n for n, _ in item.derived}
                missing = sorted(used - names)
                if missing:
                    yield _at(
                        concept,
                        "warning",
                        "placeholder",
                        m.line,
                        item.slug,
                        f"misconception {m.slug} uses {{{missing[0]}}}, which this item doesn't "
                        "define; its text is shown unfilled there",
                    )


# --- forward references -------------------------------------------------------------------


# Scripts written without spaces between words: a term there is found inside longer runs of
# letters. Korean separates words with spaces but attaches particles and endings (받침이,
# 받침을, 받침은): a Hangul term may be followed by more letters, not preceded.
_UNSPACED_SCRIPTS = ("CJK ", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


def _script_of(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith(_UNSPACED_SCRIPTS):
        return "unspaced"
    if name.startswith("HANGUL"):
        return "hangul"
    if name.startswith("LATIN"):
        return "latin"
    return ""


def term_pattern(term: str) -> re.Pattern:
    """Where `term` is used in a text, any case, any whitespace between its words: as whole
    words, with an optional plural s/es after a Latin letter; in scripts without spaces
    (Chinese, Japanese, Thai, …) inside longer runs of letters; in Korean also with particles
    and endings attached (받침 matches 받침이)."""
    words = term.split()
    body = r"\s+".join(re.escape(w) for w in words)
    first, last = _script_of(words[0][0]), _script_of(words[-1][-1])
    before = "" if first == "unspaced" else r"(?<!\w)"
    if last in ("unspaced", "hangul"):
        after = ""
    elif last == "latin":
        after = r"(?:s|es)?(?!\w)"
    else:
        after = r"(?!\w)"
    return re.compile(before + body + after, re.IGNORECASE)


def _concept_texts(concept: ConceptSpec) -> Iterator[tuple[int, str, str | None]]:
    """(line, text, item slug) of everything a learner reads in this concept."""
    yield concept.line_of("title"), concept.title, None
    for level in concept.material:
        for offset, line in enumerate(level.text.split("\n")):
            yield level.text_line + offset, line, None
    for m in concept.misconceptions:
        yield m.line, f"{m.diagnosis}\n{m.probe}", None
    for item in concept.items:
        yield item.line_of("prompt"), item.prompt, item.slug
        for h in item.hints:
            yield item.line_of("hints"), h, item.slug
        yield item.line_of("solution"), item.solution, item.slug
        for c in item.choices:
            yield item.line_of("choices"), c, item.slug
        for a in item.answers:
            yield item.line_of("answer" if "answer" in item.lines else "answers"), a, item.slug
        for m in item.misconceptions:
            yield m.line, f"{m.diagnosis}\n{m.probe}", item.slug


def _forward_references(course: CourseSpec) -> Iterator[Finding]:
    introducers: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for c in course.concepts:
        for term in c.introduces:
            key = term.casefold()
            shown.setdefault(key, term)
            if c.slug in introducers.get(key, []):
                continue
            if key in introducers:
                first = course.concept(introducers[key][0])
                yield _at(
                    c,
                    "warning",
                    "forward-reference",
                    c.line_of("introduces"),
                    None,
                    f"'{term}' is also introduced by {first.slug}",
                )
            introducers.setdefault(key, []).append(c.slug)
    patterns = {key: term_pattern(shown[key]) for key in introducers}
    for c in course.concepts:
        allowed = ancestors(course, c.slug) | {c.slug}
        foreign = [k for k, who in introducers.items() if not allowed.intersection(who)]
        if not foreign:
            continue
        texts = list(_concept_texts(c))
        everything = "\n".join(t for _, t, _ in texts)
        for key in foreign:
            if not patterns[key].search(everything):
                continue
            line, _, item = next((ln, t, it) for ln, t, it in texts if patterns[key].search(t))
            who = ", ".join(introducers[key])
            yield _at(
                c,
                "warning",
                "forward-reference",
                line,
                item,
                f"uses '{shown[key]}', introduced by {who}, which is not among its prerequisites",
            )


# --- command line -------------------------------------------------------------------------


def run(path: str, out=None, *, variants: int = DEFAULT_VARIANTS) -> int:
    """Check the ramp at `path`, print findings to `out`; the exit status (0, 1 or 2)."""
    out = out or sys.stdout

    def say(line: str) -> None:
        out.write(line + "\n")  # not print(): Django's OutputWrapper adds its own line ends

    try:
        course = read_ramp(path)
    except RampFileError as e:
        for file, line, message in e.problems:
            say(f"{file}:{line}: error: {message}")
        say(f"{len(e.problems)} problem(s) in {path}: the ramp can't be read")
        return 2
    findings = check_ramp(course, variants=variants)
    advice = ramp_advice(course)
    for f in [*findings, *advice]:
        say(str(f))
    errors = sum(f.severity == "error" for f in findings)
    tail = f"; {len(advice)} piece(s) of advice, which block nothing" if advice else ""
    if findings:
        say(
            f"{len(findings)} finding(s) in {path}: {errors} error(s), "
            f"{len(findings) - errors} warning(s){tail}"
        )
        return 1
    say(f"{course.slug}: {len(course.concepts)} concepts, no findings{tail}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m courses.ramp_checks", description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a ramp folder or .zip")
    parser.add_argument(
        "--variants",
        type=int,
        default=DEFAULT_VARIANTS,
        help="variants of each template to verify (default %(default)s)",
    )
    args = parser.parse_args(argv)
    return run(args.path, variants=args.variants)


if __name__ == "__main__":
    sys.exit(main())
