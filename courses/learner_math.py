"""Reading math a learner types for `expression` items: `2(x+1)`, `2x+2`, `x^2 - 1`, `3x²`.

No `eval` and no sympy `parse_expr` (which evals): our tokenizer reads the input, rewrites it
into plain Python syntax (`^` → `**`, implicit multiplication made explicit: `2(x+1)` →
`2*(x+1)`, `2xy` → `2*x*y`), and the result goes through the same allowlist compiler as the
ramp files' own expressions, evaluated over sympy symbols. Anything outside the small
grammar is "unreadable", with a message that says what we couldn't read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sympy

from .expressions import ExpressionError, compile_expression, to_sympy

MAX_INPUT_LENGTH = 200
FUNCTIONS = {"sqrt": "sqrt", "abs": "abs", "exp": "exp", "log": "log", "ln": "log"}
CONSTANTS = {"pi": sympy.pi}

_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_REPLACEMENTS = {
    "×": "*",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "✕": "*",
    "÷": "/",
    "⁄": "/",
    "∕": "/",
    "−": "-",
    "–": "-",
    "—": "-",
    "π": "pi",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
}
_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z]+)"
    r"|(?P<op>\*\*|[-+*/^(),])|(?P<root>√)"
)


class MathInputError(ValueError):
    """Input we couldn't read; the message is meant for the learner."""


def variable_symbols(names: Sequence[str]) -> dict[str, sympy.Symbol]:
    # real=True so that e.g. sqrt(x**2) and abs(x) are treated alike on both sides
    return {n: sympy.Symbol(n, real=True) for n in names}


def parse_learner_math(text: str, variables: Sequence[str] = ("x",)) -> sympy.Expr:
    """The sympy expression for what the learner typed; raises MathInputError."""
    source = to_python_syntax(text, variables)
    env = {**CONSTANTS, **variable_symbols(variables)}
    try:
        value = compile_expression(source).evaluate(env)
        return to_sympy(value)
    except ExpressionError as e:
        raise MathInputError(f"I couldn't read {text.strip()} as an expression: {e.message}.") from None
    except Exception:  # noqa: BLE001 — to_sympy of text/true/false and similar odd input
        raise MathInputError(f"I couldn't read {text.strip()} as an expression.") from None


def to_python_syntax(text: str, variables: Sequence[str]) -> str:
    """Rewrite learner math into the expression syntax; raises MathInputError."""
    shown = text.strip()
    if not shown:
        raise MathInputError("Type an answer first.")
    if len(text) > MAX_INPUT_LENGTH:
        raise MathInputError(f"That is longer than {MAX_INPUT_LENGTH} characters.")
    if "=" in text:
        raise MathInputError("Give just the expression, without '='.")
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "^(" + m.group().translate(_SUPERSCRIPT_DIGITS) + ")", text)
    text = "".join(_REPLACEMENTS.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKC", text)  # fullwidth digits, ½ → 1⁄2, …
    text = text.replace("⁄", "/")
    tokens = _tokenize(text, shown, variables)
    return _join(tokens, shown)


def _tokenize(text: str, shown: str, variables: Sequence[str]) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    glued = False  # no space since the previous token
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise MathInputError(f"I couldn't read '{text[pos]}' in {shown}.")
        pos = m.end()
        kind = m.lastgroup
        tok = m.group()
        if kind == "space":
            glued = False
            continue
        if kind == "num":
            if tokens and glued and tokens[-1][0] == "var":
                raise MathInputError(f"I couldn't read {shown}: write x^2 for a power or 2x for a product.")
            tokens.append(("num", tok))
        elif kind == "name":
            tokens.extend(_name_tokens(tok, shown, variables))
        elif kind == "root":
            tokens.append(("root", "sqrt"))
        elif tok in ("(", ")", ","):
            tokens.append((tok, tok))
        else:
            tokens.append(("op", "**" if tok in ("^", "**") else tok))
        glued = True
    return tokens


def _name_tokens(name: str, shown: str, variables: Sequence[str]) -> list[tuple[str, str]]:
    if name in variables:
        return [("var", name)]
    if name.lower() in FUNCTIONS:
        return [("func", FUNCTIONS[name.lower()])]
    if name in CONSTANTS:
        return [("const", name)]
    if name.lower() in variables:
        return [("var", name.lower())]  # X for x
    if len(name) > 1 and all(ch in variables for ch in name):
        return [("var", ch) for ch in name]  # `xy` is x times y
    hint = f" (use {', '.join(variables)})" if variables else ""
    raise MathInputError(f"I don't know what '{name}' means here{hint}.")


_ENDS_VALUE = {"num", "var", "const", ")"}
_STARTS_VALUE = {"num", "var", "const", "func", "root", "("}


def _join(tokens: list[tuple[str, str]], shown: str) -> str:
    out: list[str] = []
    prev = None
    i = 0
    while i < len(tokens):
        kind, tok = tokens[i]
        if prev in _ENDS_VALUE and kind in _STARTS_VALUE:
            if prev == "num" and kind == "num":
                raise MathInputError(f"I couldn't read {shown}: two numbers in a row.")
            out.append("*")  # implicit multiplication: 2x, 2(x+1), (x+1)(x-1), x sqrt(2)
        if kind == "func":
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "(":
                raise MathInputError(f"I couldn't read {shown}: write {tok}(…) with brackets.")
            out.append(tok)
            prev = "func"
        elif kind == "root":
            # √x, √2 and √(x+1): the root covers the next number, letter or bracket
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
            if nxt == "(":
                out.append("sqrt")
            elif nxt in ("num", "var", "const"):
                out.append(f"sqrt({tokens[i + 1][1]})")
                i += 1
                kind = ")"
            else:
                raise MathInputError(f"I couldn't read {shown}: √ needs something after it.")
            prev = kind if kind == ")" else "func"
        else:
            out.append(tok)
            prev = kind
        i += 1
    return " ".join(out)
