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


# Words that don't make a question specific: the stop words, and what any reply may say
# about any problem ("Can you get the answer?", "What is your next step?").
GENERIC = STOPWORDS | frozenset(
    "get got gets getting problem problems answer answers question questions sure correct wrong again "
    "thing things something anything work working worked look looks looking see know number numbers "
    "idea ideas step steps start started first next last think thought mean means meant say said tell "
    "help hint hints maybe really please one make made need want give take done going come way ways "
    "find found check checked sorry nice well good great yeah yes okay like just still also even".split()
)
# A question about how the learner got there ("How did you get 6?", "What made you add them?")
_REASONING = re.compile(
    r"\b(how|why) (did|do|would|could|were) you\b|\bwhat (did|made|makes|led) you\b|\bwhat was your\b"
    r"|\bhow do you know\b|\bwalk me through\b|\bwhere did (you|that|the)\b|\byour first step\b"
    r"|\b(explain|show me|tell me) (how|why|what you|the steps|your)\b",
    re.IGNORECASE,
)
# sentences that ask without a question mark
_REQUEST = re.compile(r"^\s*(walk me through|tell me|explain|show me)\b", re.IGNORECASE)
_FRACTION_TOKEN = re.compile(r"-?\d+\s*/\s*\d+")


def questions(text: str) -> list[str]:
    """The sentences of ``text`` that ask something."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return [s for s in sentences if s.rstrip().endswith("?") or _REQUEST.match(s)]


def specific_terms(text: str) -> set[str]:
    """What makes a question about *this* problem: fractions, numbers of two or more digits
    (or with a decimal point), and words of three or more letters that aren't generic. A lone
    digit doesn't count (every reply has one), nor does "get" or "answer"."""
    out = {f.replace(" ", "") for f in _FRACTION_TOKEN.findall(text)}
    for w in normalise(_FRACTION_TOKEN.sub(" ", text)).split():
        if _NUM.fullmatch(w):
            if len(w.strip("-").replace(".", "")) >= 2:
                out.add(w)
        elif len(w) >= 3 and w not in GENERIC:
            out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    return out


def is_probing(text: str, *, answer: str | None, probe: str) -> bool:
    """A probing reply to a mistake: it asks, keeps the answer back, and the question is about
    the learner's reasoning ("How did you get 6?") or about the problem's own quantities and
    words (``probe``: the problem, the learner's answer, the misconception's probe). Generic
    questions ("Are you sure?", "Can you get the answer now?") don't count, nor does sharing
    only a stop word or a lone digit with the problem."""
    asked = questions(text)
    if not asked:
        return False
    if answer and reveals_answer(text, answer):
        return False
    asked_text = " ".join(asked)
    if _REASONING.search(asked_text):
        return True
    return bool(specific_terms(asked_text) & specific_terms(probe))


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
