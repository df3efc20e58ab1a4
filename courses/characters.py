"""Characters a ramp's text may not hold, and the invisible ones answers are compared without.

- Control characters (other than tab and line end) have no place in text a learner reads.
- Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text
  display in another order than it is stored ("Trojan source"): what an educator reviews is
  not what the checker compares. Text in a right-to-left script needs none of them (the
  marks U+200E and U+200F remain allowed in material).
- In an answer key, invisible format characters (zero-width space, soft hyphen, word joiner,
  direction marks, …) would make the answer impossible to type. Zero-width (non-)joiners stay
  allowed: Persian, Indic scripts and emoji need them.

The grader compares answers with the invisible characters removed on both sides
(:func:`strip_invisible`), so a pasted answer that carries one is still read as typed.
"""

from __future__ import annotations

import unicodedata

_ALLOWED_CONTROLS = frozenset("\t\n")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")


def describe(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, for messages."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')}"


def _is_invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" and char not in _JOINERS


def unsafe_character(text: str) -> tuple[int, str] | None:
    """(index, why) of the first control character or bidirectional override, else None."""
    if text.isascii() and text.isprintable():
        return None
    for index, char in enumerate(text):
        if char in BIDI_CONTROLS:
            return index, (
                f"contains {describe(char)}, which makes text display in another order than it is "
                "stored; remove it (right-to-left text needs no such character)"
            )
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS:
            return index, f"contains the control character {describe(char)}"
    return None


def invisible_character(text: str) -> tuple[int, str] | None:
    """(index, why) of the first invisible character a learner couldn't type, else None."""
    if text.isascii():
        return None
    for index, char in enumerate(text):
        if _is_invisible(char):
            return index, f"contains the invisible character {describe(char)}, which a learner can't type"
    return None


def strip_invisible(text: str) -> str:
    """`text` without invisible format characters (joiners kept)."""
    if text.isascii():
        return text
    return "".join(char for char in text if not _is_invisible(char))
