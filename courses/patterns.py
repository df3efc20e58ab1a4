"""Misconception patterns: regular expressions that match in time linear in the answer.

An educator's `{pattern: "..."}` is matched against learners' answers on the hot path.
Python's `re` backtracks, so a pattern such as `(a|a)*c` takes exponential time on a few
dozen characters and stalls the whole web process (no rule of thumb about nested
quantifiers catches every such pattern). Patterns are therefore compiled by RE2, whose
matching time is linear in the input whatever the pattern: backtracking-only features
(backreferences, lookahead, lookbehind) don't exist there and are refused when a ramp is
read, as are patterns too large to compile within a small memory budget.

    pattern = compile_pattern(r"(a|one) (quarter|fourth)")    # PatternError if refused
    pattern.fullmatch("one quarter")                           # truthy

RE2's `\\d`, `\\w`, `\\s` and `\\b` are ASCII-only (`\\pL` is a letter of any script,
`\\pN` a digit). Matching ignores case, as it always has.
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2

MAX_PATTERN = 200  # characters of pattern source
# RE2's memory budget per pattern (its default is 8 MiB): a 200-character pattern that needs
# more than this compiles to a program far beyond anything a misconception needs.
MAX_MEMORY = 2 << 20


class PatternError(ValueError):
    """A pattern that is refused; the message says why, in an author's words."""


class LinearPattern:
    """A compiled pattern: RE2 underneath, with the parts of `re.Pattern` callers use
    (`pattern`, `flags`, `fullmatch`, `search`). Equal when the source is equal."""

    __slots__ = ("pattern", "_compiled")
    flags = re.IGNORECASE  # what the pattern means, for tools that read its source with `re`

    def __init__(self, source: str, compiled) -> None:
        self.pattern = source
        self._compiled = compiled

    def fullmatch(self, text: str):
        return self._compiled.fullmatch(text)

    def search(self, text: str):
        return self._compiled.search(text)

    def __eq__(self, other) -> bool:
        return isinstance(other, LinearPattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(("LinearPattern", self.pattern))

    def __repr__(self) -> str:
        return f"LinearPattern({self.pattern!r})"


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True  # only "does it match" is asked
    options.log_errors = False  # the error comes back as PatternError, not on stderr
    options.max_mem = MAX_MEMORY
    return options


_BACKTRACKING = (  # RE2's message starts with these for features it leaves out on purpose
    ("invalid escape sequence: \\1", "backreferences (\\1, \\2, …)"),
    ("invalid escape sequence: \\2", "backreferences (\\1, \\2, …)"),
    ("invalid perl operator: (?=", "lookahead (?=…)"),
    ("invalid perl operator: (?!", "negative lookahead (?!…)"),
    ("invalid perl operator: (?<=", "lookbehind (?<=…)"),
    ("invalid perl operator: (?<!", "negative lookbehind (?<!…)"),
    ("invalid perl operator: (?>", "atomic groups (?>…)"),
)


@lru_cache(maxsize=512)
def compile_pattern(source: str) -> LinearPattern:
    """The compiled pattern, or PatternError naming what is wrong with it."""
    if len(source) > MAX_PATTERN:
        raise PatternError(f"longer than {MAX_PATTERN} characters")
    try:
        return LinearPattern(source, re2.compile(source, _options()))
    except re2.error as error:
        raise PatternError(_explain(error)) from None


def _explain(error: Exception) -> str:
    detail = error.args[0] if error.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    for prefix, feature in _BACKTRACKING:
        if detail.startswith(prefix):
            return (
                f"{feature} can't be used: patterns are matched in time proportional to the answer's "
                "length, which rules out what needs backtracking"
            )
    if detail.startswith("invalid repetition size"):
        count = detail.split(": ")[-1]
        return f"repetition counts can't go above 1000, nested ones multiplied together ({count})"
    if "too large" in detail or "out of memory" in detail:
        return "too large once compiled; simplify it (fewer or smaller repetition counts)"
    return f"not a valid regular expression: {detail}"
