"""What the tutor model may say: the guards every message passes before a learner sees it.

- **Reveal guard**: every number, fraction, expression, choice or accepted answer the message
  states is graded by the course's own checker against the current question's answer key; a
  message containing anything graded *correct* is refused (an equivalent fraction, "x = 7",
  the right choice's text). The learner's own wrong answer may be repeated: it is not correct.
- **Grounding guard**: every number in the message, and every domain term (a concept's title
  or a term a concept introduces, in any course), must appear in the message's context (the
  prompt: the question, the learner's answer, the authored candidates and material). A number
  from nowhere, or a term from another course, refuses the message.
- **Reach**: a domain term of a concept the learner hasn't reached refuses the message, unless
  the context itself shows it (the ramp's forward-reference rule, applied to the tutor).
- **Markup and shape**: HTML tags, ``hx-`` attributes, ``javascript:`` and event handlers are
  refused outright (the page escapes everything anyway; such text is never a tutoring reply);
  so are empty replies and runaway ones (no end within the token budget, or one phrase
  repeated over and over).

:class:`StreamGuard` applies them while the reply streams: text is released a word at a time,
holding back a tail that may still be growing into a number or formula, and only once the
released prefix passes; the whole reply is checked again at the end.

    guard = StreamGuard(Guard(context=prompt_text, key=variant.key, vocabulary=vocab, reached=slugs))
    for piece in pieces:                 # text as the model writes it
        shown = guard.feed(piece)        # text that may go to the learner now ("" while held)
        if guard.verdict.refused: break
    verdict = guard.finish(ended=True)   # ended: the model closed its turn itself
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from courses.checkers import AnswerKey, check_answer, normalise_text
from courses.ramp_checks import term_pattern

# why a message was not shown (stored with it; the admin page counts them per version)
REASONS = {
    "reveals": "it would have given the answer away",
    "ungrounded_number": "it stated a number that is not in its context",
    "ungrounded_term": "it used a term that is not in its context",
    "unreached": "it named a concept the learner hasn't reached",
    "markup": "it contained markup",
    "empty": "it was empty",
    "runaway": "it did not end, or repeated itself",
    "late": "it was not ready in time",
    "busy": "the tutor was busy",
    "no_model": "no tutor model is active",
    "error": "the tutor model failed",
}
MIN_CHARS = 8
REPEATS = 3  # the same 4 words this many times: a runaway loop

_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
# a number ends where no digit or word goes on (a sentence's full stop may follow)
_END = r"(?!\w|[.,]\d)"
_MIXED = re.compile(r"(?<![\w.])-?\d+\s+\d+\s*/\s*\d+" + _END)
_FRACTION = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?" + _END)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*" + _END)
_ATOM = re.compile(r"\d+(?:\.\d+)?")
# "<" then a letter, "!", "/" or "?" opens a tag; "b < c" in a formula does not
_MARKUP = re.compile(r"<[A-Za-z!/?]|\bhx-[a-z]|javascript:|\bon[a-z]+\s*=|\{%|\{\{", re.IGNORECASE)
_MATH_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+|[+\-*/^()=]|\S")


@dataclass(frozen=True)
class Verdict:
    reason: str = ""  # one of REASONS, "" when the message may be shown
    detail: str = ""  # what triggered it, for the log and the admin page

    @property
    def refused(self) -> bool:
        return bool(self.reason)


OK = Verdict()


def plain_math(text: str) -> str:
    """LaTeX fractions as a/b, $ and \\cdot/\\times as plain text: what a reader sees."""
    text = _FRAC.sub(lambda m: f"{m.group(1)}/{m.group(2)}", text)
    text = text.replace("\\cdot", "*").replace("\\times", "*").replace("\\left", "").replace("\\right", "")
    return text.replace("$", " ")


def number_atoms(text: str) -> set[str]:
    """Every number written in ``text`` (digits; a fraction's parts separately), as text.
    1,000 and 1000 are the same atom; 0.50 and 0.5 too."""
    atoms = set()
    for raw in _ATOM.findall(plain_math(text).replace(",", "")):
        atoms.add(raw.rstrip("0").rstrip(".") if "." in raw else raw.lstrip("0") or "0")
    return atoms


def answer_spans(text: str) -> list[str]:
    """What a message could be read as stating as an answer: mixed numbers, fractions,
    numbers (with the word after them, for units), formulas; longest first."""
    plain = plain_math(text)
    spans: list[str] = []
    for pattern in (_MIXED, _FRACTION, _NUMBER):
        for m in pattern.finditer(plain):
            spans.append(m.group().strip())
            after = re.match(r"\s*([A-Za-z%°]+)", plain[m.end() :])
            if after:  # a unit
                spans.append(m.group().strip() + " " + after.group(1))
    for formula in _formulas(plain):
        spans.append(formula)
        if "=" in formula:
            spans += [side.strip() for side in formula.split("=") if side.strip()]
    seen, out = set(), []
    for span in sorted(spans, key=len, reverse=True):
        if span not in seen:
            seen.add(span)
            out.append(span)
    return out


def _formulas(plain: str) -> list[str]:
    """Runs of numbers, one-letter variables and operators (``3x + 2``, ``x = 7``): English
    words end a run. Only runs with a digit and an operator count."""
    out, run = [], []

    def close():
        if run:
            start, end = run[0].start(), run[-1].end()
            span = plain[start:end].strip()
            if any(c.isdigit() for c in span) and any(op in span for op in "+-*/^=") and len(span) <= 80:
                out.append(span)
            run.clear()

    for m in _MATH_TOKEN.finditer(plain):
        token = m.group()
        if token[0].isdigit() or token in "+-*/^()=" or (token.isalpha() and len(token) == 1):
            run.append(m)
        else:
            close()
    close()
    return out


def reveals(text: str, key: AnswerKey, graded: dict | None = None) -> str:
    """The part of ``text`` the checker grades correct for ``key`` ('' when none is).
    ``graded`` memoises the checker's verdict per span (a streaming reply is checked again at
    every word, and grading a formula can take milliseconds)."""
    if key.type == "multiple_choice":
        right = normalise_text(str(key.answer))
        return str(key.answer) if right and f" {right} " in f" {normalise_text(text)} " else ""
    if key.type == "short_text":
        said = f" {normalise_text(text)} "
        return next((a for a in key.answer if normalise_text(a) and f" {normalise_text(a)} " in said), "")
    if key.type == "ordering":
        # the steps written out in their right order (the learner's own order may be repeated)
        positions = [text.find(step) for step in key.answer]
        in_order = len(positions) >= 2 and -1 not in positions and positions == sorted(positions)
        return "the order" if in_order else ""
    for span in answer_spans(text):
        if graded is None or span not in graded:
            correct = check_answer(key, span).correct
            if graded is not None:
                graded[span] = correct
        else:
            correct = graded[span]
        if correct:
            return span
    return ""


@dataclass(frozen=True)
class Guard:
    """The guards for one message. ``context``: everything in its prompt; ``key``: the current
    question's answer key (None when the learner has no open question); ``vocabulary``: domain
    term -> the concept (``course/concept`` slug) that introduces it, over every course;
    ``reached``: the ``course/concept`` slugs this learner has reached (None: don't check)."""

    context: str
    key: AnswerKey | None = None
    vocabulary: Mapping[str, str] = field(default_factory=dict)
    reached: frozenset[str] | None = None

    def __post_init__(self):
        object.__setattr__(self, "_context_atoms", number_atoms(self.context))
        patterns = {t: term_pattern(t) for t in self.vocabulary}
        # terms the prompt itself shows may be used; only the others are looked for in a reply
        object.__setattr__(
            self, "_foreign", {t: p for t, p in patterns.items() if not p.search(self.context)}
        )
        object.__setattr__(self, "_graded", {})

    def check(self, text: str, *, final: bool = False, ended: bool = True) -> Verdict:
        """The verdict on ``text`` (a prefix while streaming; ``final``: the whole reply, which
        ``ended`` if the model closed its turn itself)."""
        if _MARKUP.search(text):
            return Verdict("markup", _MARKUP.search(text).group())
        if self.key is not None:
            shown = reveals(text, self.key, self._graded)
            if shown:
                return Verdict("reveals", shown)
        stray = sorted(number_atoms(text) - self._context_atoms)
        if stray:
            return Verdict("ungrounded_number", stray[0])
        for term, pattern in self._foreign.items():
            concept = self.vocabulary[term]
            if pattern.search(text):
                if self.reached is not None and concept not in self.reached:
                    return Verdict("unreached", f"{term} ({concept})")
                return Verdict("ungrounded_term", f"{term} ({concept})")
        if final:
            if len(text.strip()) < MIN_CHARS:
                return Verdict("empty", repr(text.strip()))
            if not ended:
                return Verdict("runaway", "no end within the token budget")
            loop = _repeated_phrase(text)
            if loop:
                return Verdict("runaway", f"repeats {loop!r}")
        return OK


def _repeated_phrase(text: str) -> str:
    words = text.lower().split()
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - 3):
        gram = tuple(words[i : i + 4])
        counts[gram] = counts.get(gram, 0) + 1
        if counts[gram] >= REPEATS:
            return " ".join(gram)
    return ""


_HOLD = re.compile(r"[0-9$\\/=+*^{}()]")


class StreamGuard:
    """Releases a streaming reply word by word, only as far as the guards pass; the last
    words are held while they contain a digit or a formula character (``3`` may still become
    ``3/4``)."""

    def __init__(self, guard: Guard, *, hold_words: int = 2):
        self.guard = guard
        self.hold_words = hold_words
        self.text = ""
        self.released = ""
        self.verdict = OK

    def _safe_end(self) -> int:
        """How far the text may be released: up to a word boundary, minus a held tail."""
        cut = max(self.text.rfind(" "), self.text.rfind("\n"))
        if cut <= len(self.released):
            return len(self.released)
        words = self.text[:cut].split(" ")
        tail = words[-self.hold_words :] if len(words) > self.hold_words else words
        while tail and _HOLD.search(tail[-1]):
            cut -= len(tail[-1]) + 1
            tail = tail[:-1]
        return max(cut, len(self.released))

    def feed(self, piece: str) -> str:
        """Add the model's next text; returns what may be shown now beyond what already was."""
        if self.verdict.refused:
            return ""
        self.text += piece
        end = self._safe_end()
        if end <= len(self.released):
            return ""
        verdict = self.guard.check(self.text[:end])
        if verdict.refused:
            self.verdict = verdict
            return ""
        new, self.released = self.text[len(self.released) : end], self.text[:end]
        return new

    def finish(self, *, ended: bool) -> Verdict:
        """The verdict on the whole reply; on success, ``remaining()`` is what is left to show."""
        if not self.verdict.refused:
            self.verdict = self.guard.check(self.text.strip(), final=True, ended=ended)
        return self.verdict

    def remaining(self) -> str:
        return self.text[len(self.released) :] if not self.verdict.refused else ""


def domain_vocabulary(concepts: Sequence[tuple[str, str, Sequence[str]]]) -> dict[str, str]:
    """term -> 'course/concept' from (course slug, concept slug, [title, *introduced terms])
    rows; a term introduced by several concepts keeps its first (ramp order)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for course, concept, terms in concepts:
        for term in terms:
            term = " ".join(term.split())
            if len(term) >= 3 and term.casefold() not in seen:
                seen.add(term.casefold())
                out[term] = f"{course}/{concept}"
    return out
