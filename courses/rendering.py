"""Markdown with math → safe HTML, for material, prompts, hints and anything a model wrote.

markdown-it-py (CommonMark, raw HTML off, linkify off, plus tables and strikethrough) with
two small rules of our own for math, so `$…$` and `$$…$$` are never touched by Markdown
(no emphasis inside `a_1 * b_2`) and come out as escaped TeX inside

    <span class="math math-inline">\\(…\\)</span>   <div class="math math-display">\\[…\\]</div>

(`$$…$$` inside a paragraph is a <span class="math math-display">), which KaTeX's
auto-render (served locally; keep its `trust` option off) turns into math.
The HTML then goes through nh3 with an allowlist as a second line of defence: no scripts,
no event handlers, no `javascript:` URLs, links get rel="noopener nofollow".
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt

from .specs import ConceptSpec, MaterialLevel

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
ALLOWED_CLASSES = {"span": {"math", "math-inline", "math-display"}, "div": {"math", "math-display"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_MATH = 2_000  # characters of TeX in one formula
MAX_MATH_LINES = 100  # lines of one $$ … $$ block


# a closing `$`: not after whitespace or a backslash, not before a digit
_CLOSING_DOLLAR = re.compile(r"(?<![\s\\])\$(?!\d)")


def _math_inline(state, silent: bool) -> bool:
    """`$…$` (inline) and `$$…$$` inside a paragraph (display). Like pandoc: the opening `$`
    is followed by a non-space, the closing one preceded by a non-space and not followed by a
    digit, so "costs $5 and $10" stays text. The closing delimiter is looked for within
    MAX_MATH characters only, so text full of `$` renders in linear time."""
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    limit = min(state.posMax, start + MAX_MATH)
    if src.startswith("$$", start):
        end = src.find("$$", start + 2, limit)
        if end < 0 or end == start + 2:
            return False
        content, after = src[start + 2 : end], end + 2
        kind = "math_display_inline"
    else:
        if start + 1 >= state.posMax or src[start + 1].isspace():
            return False
        m = _CLOSING_DOLLAR.search(src, start + 2, limit)
        if m is None:
            return False
        content, after = src[start + 1 : m.start()], m.end()
        kind = "math_inline"
    if not content.strip() or after > state.posMax:
        return False
    if not silent:
        token = state.push(kind, "math", 0)
        token.content = content
    state.pos = after
    return True


def _math_block(state, start_line: int, end_line: int, silent: bool) -> bool:
    """`$$` opening a line, up to the line that ends with `$$` (may be the same line)."""
    pos = state.bMarks[start_line] + state.tShift[start_line]
    maximum = state.eMarks[start_line]
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False  # indented code
    first = state.src[pos:maximum]
    if not first.startswith("$$"):
        return False
    rest = first[2:]
    if rest.rstrip().endswith("$$") and len(rest.rstrip()) >= 2:
        content, last = rest.rstrip()[:-2], start_line
    else:
        lines, last = [rest], None
        for line in range(start_line + 1, min(end_line, start_line + MAX_MATH_LINES)):
            text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
            if text.rstrip().endswith("$$"):
                lines.append(text.rstrip()[:-2])
                last = line
                break
            lines.append(text)
        if last is None:
            return False
        content = "\n".join(lines)
    if not content.strip():
        return False
    if silent:
        return True
    token = state.push("math_display", "math", 0)
    token.block = True
    token.content = content.strip()
    token.map = [start_line, last + 1]
    state.line = last + 1
    return True


def _render_inline_math(self, tokens, idx, options, env) -> str:
    tex = tokens[idx].content[:MAX_MATH]
    return f'<span class="math math-inline">\\({html.escape(tex)}\\)</span>'


def _render_display_math_inline(self, tokens, idx, options, env) -> str:
    tex = tokens[idx].content.strip()[:MAX_MATH]
    return f'<span class="math math-display">\\[{html.escape(tex)}\\]</span>'


def _render_display_math(self, tokens, idx, options, env) -> str:
    tex = tokens[idx].content.strip()[:MAX_MATH]
    return f'<div class="math math-display">\\[{html.escape(tex)}\\]</div>\n'


# "11/4" or "2 3/4" written as plain text: shown as the fraction it is, like "$\frac{11}{4}$"
# next to it would be (a lone slash between two whole numbers, not part of a path or a date)
_BARE_FRACTION = re.compile(r"(?<![\w/.\\])(?:(\d+)\s+)?(\d+)/(\d+)(?![\w/]|\.\d)")


def _bare_fractions(state) -> None:
    """A core rule after the inline parse: text tokens' bare fractions become inline math."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children = []
        for token in block.children:
            if token.type != "text" or "/" not in token.content:
                children.append(token)
                continue
            text, last = token.content, 0
            for m in _BARE_FRACTION.finditer(text):
                if m.start() > last:
                    children.append(_text_token(token, text[last : m.start()]))
                whole, num, den = m.groups()
                math = token.__class__("math_inline", "math", 0)
                math.content = (whole or "") + f"\\frac{{{num}}}{{{den}}}"
                children.append(math)
                last = m.end()
            if last == 0:
                children.append(token)
            else:
                if last < len(text):
                    children.append(_text_token(token, text[last:]))
        block.children = children


def _text_token(like, content: str):
    token = like.__class__("text", "", 0)
    token.content = content
    return token


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.block.ruler.before(
        "fence", "math_block", _math_block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    md.add_render_rule("math_inline", _render_inline_math)
    md.add_render_rule("math_display", _render_display_math)
    md.add_render_rule("math_display_inline", _render_display_math_inline)
    md.core.ruler.push("bare_fractions", _bare_fractions)
    md.validateLink = _safe_link
    return md


def _safe_link(url: str) -> bool:
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url.split("/", 1)[0] else ""
    return scheme in ("", *URL_SCHEMES)


_MD = _markdown()


def sanitise(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Safe HTML for Markdown with $…$ math (from authors, learners or the model)."""
    return sanitise(_MD.render(text or ""))


def render_inline(text: str) -> str:
    """Safe HTML for one line (a choice, a title): no surrounding <p>."""
    return sanitise(_MD.renderInline(text or ""))


def render_material(concept: ConceptSpec | Sequence[MaterialLevel]) -> list[tuple[str, str]]:
    """(level name, HTML) for each material level, in order."""
    levels = concept.material if isinstance(concept, ConceptSpec) else concept
    return [(level.name, render_markdown(level.text)) for level in levels]


def render_prompt(variant_or_text) -> str:
    """An item's prompt: pass a `variants.Variant` (placeholders filled) or the text."""
    text = getattr(variant_or_text, "prompt", variant_or_text)
    return render_markdown(text)
