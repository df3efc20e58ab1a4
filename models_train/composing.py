"""Composed decoding: the tutor's reply is built from whole pieces of its prompt and of its
own phrases, in the order and with the cuts the model chooses (plain Python and torch).

A small model trained to copy a probe or a hint from its prompt copies most of it and then
drifts ("You said 64. If the model make one of the model..."): every word is from the prompt,
and the sentence means nothing. Composed decoding lets it write only *pieces*: a sentence of
an authored candidate (a probe, a hint, a sentence of the material), a sentence of the
learner's own words, one of the tutor's phrases with the learner's answer or the hint filled
in ("You said 2/6.", "Not quite yet. What did you do first to get 2/6?", "Try this: <hint>"),
and line breaks between them. Inside a piece the next token is fixed; between pieces the
model chooses which piece comes next, or to end its turn. The model still decides what to
say, to whom and how much; it can no longer garble a sentence or invent a word.

    from models_train.composing import Composer, pieces_of
    pieces = pieces_of([("Probe", "How many quarters make a half?")],
                       [("reply", "first", "You said {a}.")], {"a": ["2/6"]})
    composer = Composer(tok, pieces, end=end_id, budget=64)
    for token in engine.stream(prompt, max_tokens=64, stop=[end_id], constraint=composer): ...

The engine asks ``mask()`` before each token and ``feed(token)`` after it. Rules: a piece is
written at most once, and never one that repeats a piece already written (or is repeated in
it); a candidate's sentences in their order (the model may skip some of a probe's or a hint's,
none of the material's, which it quotes from the start as far as it likes); one phrase per role
(one lead-in, one closing question); pieces are joined by a space or
a line break; a piece is only started when it can end within the token budget, so a reply
always ends in time; and where the prompt has something to say (a candidate, or a phrase with
the learner's answer filled in) the reply says some of it before it may end, rather than a
bare "Good question."
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

BREAKS = ("\n", "\n\n")
# a sentence ends at . ? ! or : followed by a space; lines are pieces of their own
_SENTENCE_END = re.compile(r"(?<=[.?!:])[ \t]+")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
MIN_ALNUM = 3  # a candidate's sentence shorter than this ("4.") is a list number, not a sentence
MIN_QUOTE = 80  # characters of the material an explanation or an answer quotes at least


_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)


_BLOCK_START = re.compile(r"\s*(?:[-*+] |\d+[.)] |\$\$|\||#)")


def _units(text: str) -> list[str]:
    """``text`` as paragraphs, list items, table rows and display formulas, with the soft line
    breaks of wrapped text joined (markdown wraps a sentence over several lines)."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [line.rstrip() for line in paragraph.split("\n") if line.strip()]
        current = ""
        in_math = False
        for line in lines:
            starts_block = bool(_BLOCK_START.match(line)) and not in_math
            if current and (starts_block or current.rstrip().endswith("$$") and not in_math):
                units.append(current)
                current = ""
            current = (current + " " + line.strip()) if current else line.strip()
            in_math ^= line.count("$$") % 2 == 1
        if current:
            units.append(current)
    return units


_LIST_MARKER = re.compile(r"\s*\d+[.)] ")
_ENDS_SENTENCE = re.compile(r"[.?!][)*\"\u201d\u2019`$]*$")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order: paragraphs, list items and display
    formulas apart, wrapped lines joined, never cut inside $math$, and what doesn't end a
    sentence ("To solve it:", "For fractions with the same numerator,", a heading) kept with
    what follows it."""
    out: list[str] = []
    glue = ""  # how the next sentence joins the last one ("" when it starts a piece)
    for unit in _units(text):
        math = [m.span() for m in _MATH.finditer(unit)]
        marker = _LIST_MARKER.match(unit)  # "1. " starts an item, it ends no sentence
        if marker:
            math.append((-1, marker.end()))
        parts, start = [], 0
        for cut in _SENTENCE_END.finditer(unit):
            if any(a < cut.start() < b for a, b in math):
                continue
            parts.append(unit[start : cut.start()].strip())
            start = cut.end()
        parts.append(unit[start:].strip())
        for sentence in filter(None, parts):
            if glue and out:
                out[-1] += glue + sentence
            else:
                out.append(sentence)
            glue = "" if _ENDS_SENTENCE.search(sentence) else " "
        if glue:
            glue = "\n"  # the next unit starts on a line of its own
    return out


@dataclass(frozen=True)
class Piece:
    text: str
    content: bool  # from the prompt (a candidate's sentence, a phrase filled in), not a bare phrase
    role: str = ""  # a phrase's role in a reply ("lead", "close", ...): one phrase per role
    place: str = "any"  # "first" (opens the reply), "last" (closes it, after content), or "any"
    source: int = -1  # a candidate's sentences keep their order: which candidate,
    index: int = 0  # and where in it;
    contiguous: bool = False  # quoted from its start, none skipped (the material)


def pieces_of(
    texts: Iterable[tuple[str, str]], phrases: Iterable[tuple[str, str, str]], fills: dict[str, list[str]]
) -> list[Piece]:
    """The pieces a reply may be made of: each sentence of ``texts`` ((label, text): the
    authored candidates), and each of ``phrases`` ((role, place, phrase)) with its
    {placeholders} filled from ``fills`` (e.g. {"a": [the learner's answer], "hint": [the next
    hint]}; a phrase with a placeholder that has nothing to fill it is left out). The
    material is quoted from its start, as much as the model likes; a question in it ("Can we
    do better?") is no answer on its own."""
    out: dict[str, Piece] = {}
    for source, (label, text) in enumerate(texts):
        kept = [s for s in sentences(text) if sum(c.isalnum() for c in s) >= MIN_ALNUM or s == text.strip()]
        material = label == "Material"
        for index, s in enumerate(kept):
            content = not (material and s.endswith("?"))
            out.setdefault(s, Piece(s, content, source=source, index=index, contiguous=material))
    for role, place, phrase in phrases:
        names = list(dict.fromkeys(_PLACEHOLDER.findall(phrase)))
        filled = [phrase]
        for name in names:
            values = [" ".join(v.split()) for v in fills.get(name[1:-1], []) if v.strip()]
            filled = [f.replace(name, v) for f in filled for v in values]
        for text in filled:
            text = text.strip()
            if text and text not in out:
                out[text] = Piece(text, bool(names), role, place)
    return list(out.values())


class _Node:
    __slots__ = ("children", "ends", "rest")

    def __init__(self):
        self.children: dict[int, _Node] = {}
        self.ends: list[int] = []  # pieces that end here
        self.rest: dict[int, int] = {}  # piece through here -> its tokens still to come


class Composer:
    """The state of one reply being composed (see the module docstring). ``pieces``: from
    ``pieces_of``; ``budget``: the tokens the reply may take, the end of turn included."""

    def __init__(self, tok, pieces: Sequence[Piece], *, end: int, budget: int):
        self.end, self.budget, self.vocab = end, budget, tok.vocab_size
        self.pieces = list(pieces)
        n = len(pieces)
        self.breaks = set(range(n, n + len(BREAKS)))
        texts = [p.text for p in pieces]
        # a piece written uses up every piece it contains ("Here's a hint: H" uses up H) and
        # every piece that contains it (H, then "Here's a hint: H", would say H twice)
        self.overlaps = {
            k: {j for j, other in enumerate(texts) if other in piece or piece in other}
            for k, piece in enumerate(texts)
        }
        self.content = {k for k, p in enumerate(pieces) if p.content}
        self.first = {k for k, p in enumerate(pieces) if p.place == "first"}
        self.order = {k: (p.source, p.index) for k, p in enumerate(pieces) if p.source >= 0}
        self.contiguous = {k for k, p in enumerate(pieces) if p.contiguous}
        self.reached: dict[int, int] = {}  # candidate -> the index of its last sentence written
        self.last = {k for k, p in enumerate(pieces) if p.place == "last"}
        for k, p in enumerate(pieces):  # a phrase uses up its role: one lead, one closing question
            if p.role:
                self.overlaps[k] |= {j for j, q in enumerate(pieces) if q.role == p.role}
        # the first piece, and a piece after a line break, starts bare; any other after a space
        self.bare, self.spaced = _Node(), _Node()
        variants = [(self.bare, t, k) for k, t in enumerate(texts)]
        variants += [(self.spaced, " " + t, k) for k, t in enumerate(texts)]
        variants += [(self.spaced, text, n + i) for i, text in enumerate(BREAKS)]  # between pieces
        encoded = tok.encode_batch([text for _, text, _ in variants])
        self.length: dict[int, int] = {}  # piece -> its fewest tokens (after a space)
        for (root, _, k), ids in zip(variants, encoded, strict=True):
            if ids:
                self._add(root, ids, k)
                self.length[k] = min(self.length.get(k, len(ids)), len(ids))
        self.state: set[_Node] = {self.bare}
        self.used: set[int] = set()  # pieces written, or overlapping one written
        self.said_something = not self.content  # nothing to say: any piece will do
        # with material to quote, something of substance is at least MIN_QUOTE characters of it
        # ("Here is Bengio's idea (2003)." alone answers nothing)
        quoted = [len(p.text) for p in pieces if p.contiguous and p.content]
        self.quote_needed = min(MIN_QUOTE, sum(quoted)) if quoted else 0
        self.quoted = 0
        self.closed = False  # a closing phrase was written: only the end of turn may follow
        self.written = 0
        self.pieces_written = 0

    @staticmethod
    def _add(root: _Node, ids: list[int], k: int) -> None:
        node = root
        node.rest[k] = min(node.rest.get(k, len(ids)), len(ids))
        for i, t in enumerate(ids):
            node = node.children.setdefault(t, _Node())
            left = len(ids) - i - 1
            node.rest[k] = min(node.rest.get(k, left), left)
        node.ends.append(k)

    def _startable(self, k: int, after: int | None = None) -> bool:
        """Whether piece ``k`` may be written now (``after``: the tokens that would be left
        once it is written, when known)."""
        if k in self.breaks:
            return not self.closed
        if k in self.used or self.closed:
            return False
        if k in self.first and self.pieces_written:
            return False
        if k in self.order:  # a candidate's sentences in their order (some may be skipped)
            source, index = self.order[k]
            last = self.reached.get(source, -1)
            if index <= last or (k in self.contiguous and index != last + 1):
                return False
        if not self.said_something and k not in self.content:
            # nothing of substance yet: no closing phrase, and nothing that would leave nothing
            # of substance to say ("Not quite yet." using up "How did you get 81?", or taking
            # the tokens it needs)
            if k in self.last:
                return False
            rest = [self.length[j] for j in self.content - self.used - self.overlaps[k]]
            return bool(rest) and (after is None or min(rest) <= after)
        return True

    def _open(self, node: _Node, left: int | None = None) -> bool:
        """Whether some piece through ``node`` may still be written (within ``left`` more
        tokens after this one, when given)."""
        return any(
            (left is None or d <= left) and self._startable(k, None if left is None else left - d)
            for k, d in node.rest.items()
        )

    def allowed_ids(self) -> set[int]:
        """The tokens the reply may go on with now."""
        left = self.budget - self.written - 1  # one token is kept for the end of turn
        out: set[int] = set()
        for node in self.state:
            for t, child in node.children.items():
                if child.rest.keys() <= self.breaks:  # a line break: only when a piece fits after it
                    need = 1 + min(child.rest.values()) + self._shortest_after_break(left)
                    if need <= left and not self.closed:
                        out.add(t)
                elif self._open(child, left - 1):
                    out.add(t)
        if (self.spaced in self.state and self.pieces_written and self.said_something) or self.closed:
            out.add(self.end)
        return out

    def _shortest_after_break(self, left: int) -> int:
        """Tokens of the shortest piece that may start after a line break (a big number when
        none fits in ``left``)."""
        fits = [
            d for k, d in self.bare.rest.items() if k not in self.breaks and self._startable(k) and d <= left
        ]
        return min(fits, default=10**9)

    def mask(self) -> torch.Tensor:
        """allowed_ids() as a (vocab,) bool mask; the end of turn when nothing else fits."""
        mask = torch.zeros(self.vocab, dtype=torch.bool)
        ids = self.allowed_ids()
        mask[sorted(ids) if ids else [self.end]] = True
        return mask

    def feed(self, token: int) -> None:
        """The token the model wrote: follow every piece it may be part of."""
        self.written += 1
        nxt = {node.children[token] for node in self.state if token in node.children}
        nxt = {node for node in nxt if self._open(node)}
        for node in list(nxt):
            # a piece ends here only if it could have been started (else only a longer piece
            # through it goes on: "Not quite yet." inside "Not quite yet. How did you get 81?")
            fresh = [k for k in node.ends if self._startable(k)]
            for k in fresh:
                if k in self.breaks:
                    nxt.add(self.bare)
                    continue
                self.used |= self.overlaps[k]
                self.pieces_written += 1
                if k in self.contiguous:
                    self.quoted += len(self.pieces[k].text)
                self.said_something = self.said_something or (
                    k in self.content and self.quoted >= self.quote_needed
                )
                self.closed = self.closed or k in self.last
                if k in self.order:
                    source, index = self.order[k]
                    self.reached[source] = max(index, self.reached.get(source, -1))
                nxt.add(self.spaced)
        self.state = nxt
