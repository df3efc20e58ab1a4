"""Text-level judgements of generated tutor turns: reveals the answer? probes? parses?

Kept free of the model so they are easy to test and to argue about.
"""

from __future__ import annotations

import re
import unicodedata

from .dialogue import ANSWER, QUESTION, RESULT_END

_NUM = re.compile(r"-?\d+(?:[.,]\d+)*")
STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this "
    "that these those i you he she we they me him her us them my your our their what which who whom how why "
    "when where do does did have has had not no yes so than then there here can could would should will just "
    "about into out up down over under again very all any some more most other such only own same too let "
    "lets let's okay ok well good great right now try think answer question".split()
)


def normalise(text: str) -> str:
    """Lowercase, accents folded, numbers canonical (1,000 -> 1000; 10.0 -> 10), punctuation -> spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _NUM.sub(lambda m: f" {_canon_number(m.group())} ", text)
    text = re.sub(r"[^\w.\-]+|(?<!\d)[.\-]|[.\-](?!\d)", " ", text)
    return " ".join(text.split())


def _canon_number(s: str) -> str:
    s = s.replace(",", "")
    try:
        v = float(s)
    except ValueError:
        return s
    return str(int(v)) if v == int(v) else repr(v)


def reveals_answer(text: str, answer: str) -> bool:
    """True if the normalised answer occurs in the normalised text as whole words.

    Whole words, so answer "4" is not found in "14" or "4.5"; normalised, so
    "10.0", "10" and "1,0" spellings of numbers and accents do not hide a reveal.
    """
    a = normalise(answer)
    if not a:
        return False
    return f" {a} " in f" {normalise(text)} "


def content_terms(text: str) -> set[str]:
    """Words of 3+ letters that are not stopwords, and every number."""
    out = set()
    for w in normalise(text).split():
        if _NUM.fullmatch(w) or (len(w) >= 3 and w not in STOPWORDS and not w.isdigit()):
            out.add(w)
    return out


def asks_question(text: str) -> bool:
    return "?" in text


def is_probing(text: str, *, answer: str | None, probe: str) -> bool:
    """A probing reply to a mistake: asks a question, keeps the answer back, and is specific.

    Specific means it shares at least one content term (a word or number) with
    the probe content: the misconception's probe terms when the dialogue has
    them, else the learner's last message. A generic "Are you sure?" asks but
    does not probe; "Why did you subtract the 3 spoons?" does.
    """
    if not asks_question(text):
        return False
    if answer and reveals_answer(text, answer):
        return False
    return bool(content_terms(text) & content_terms(probe))


def parse_practice_question(text: str) -> tuple[str, str] | None:
    """'<|question|> q <|answer|> a' -> (q, a), both non-empty; anything else -> None.
    After a calculator call (`<|calc|> … <|result|> v <|result_end|> a`) the answer is
    what the tutor wrote after the tool's result."""
    if QUESTION not in text or ANSWER not in text:
        return None
    _, _, rest = text.partition(QUESTION)
    q, _, a = rest.partition(ANSWER)
    if RESULT_END in a:
        a = a.rpartition(RESULT_END)[2]
    q, a = q.strip(), a.strip()
    if not q or not a or QUESTION in a or ANSWER in a:
        return None
    return q, a
