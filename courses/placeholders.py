"""`{name}` placeholders in template text; `{{` and `}}` are literal braces.

Our own tiny formatter rather than `str.format`, which would also accept `{a.__class__}` or
`{a[0]}`: here a placeholder is exactly a name, and a lone brace is an error (it is almost
always LaTeX such as `\\frac{1}{2}` that should have been written `\\frac{{1}}{{2}}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")


class PlaceholderError(ValueError):
    pass


def placeholder_names(text: str) -> list[str]:
    """The names used in `text`, in order; raises PlaceholderError on a lone brace."""
    names = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if m.group(1) is not None:
            names.append(m.group(1))
        elif tok in ("{", "}"):
            raise PlaceholderError(_lone_brace_message(text, m.start()))
    return names


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replace each `{name}` with values[name]; raises PlaceholderError for unknown names."""

    def replace(m: re.Match) -> str:
        tok = m.group(0)
        if tok == "{{":
            return "{"
        if tok == "}}":
            return "}"
        name = m.group(1)
        if name is None:
            raise PlaceholderError(_lone_brace_message(text, m.start()))
        try:
            return values[name]
        except KeyError:
            raise PlaceholderError(f"unknown placeholder {{{name}}}") from None

    return _TOKEN.sub(replace, text)


def _lone_brace_message(text: str, pos: int) -> str:
    around = text[max(0, pos - 15) : pos + 15].replace("\n", " ")
    return (
        f"a lone '{text[pos]}' near “{around}”: in templates write {{{{ and }}}} for "
        "literal braces and {name} for values"
    )
