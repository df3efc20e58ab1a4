from html.parser import HTMLParser

import pytest

from courses.ramp_files import read_ramp
from courses.rendering import ALLOWED_TAGS, render_inline, render_markdown, render_material, render_prompt
from courses.variants import draw_variant

from .helpers import GOOD_RAMP


def test_markdown_and_math():
    html = render_markdown(r"Half is $\frac{1}{2}$, *really*.")
    assert '<span class="math math-inline">\\(\\frac{1}{2}\\)</span>' in html
    assert "<em>really</em>" in html


def test_math_is_protected_from_markdown():
    html = render_markdown("$a_1 * b_2 * c_3$ and $x_1_2$")
    assert "<em>" not in html
    assert "\\(a_1 * b_2 * c_3\\)" in html


def test_display_math_block_spans_lines():
    html = render_markdown("$$\na = b\n= c\n+ d\n$$\n\nafter")
    assert '<div class="math math-display">\\[a = b\n= c\n+ d\\]</div>' in html
    assert "<h1>" not in html and "<li>" not in html and "<p>after</p>" in html


def test_dollars_that_are_money_stay_text():
    assert "math" not in render_markdown("It costs $5 and $10.")
    assert "math" not in render_markdown(r"Escaped \$x\$ stays text")


def test_code_keeps_dollars():
    assert "<code>$x$</code>" in render_markdown("`$x$`")


class _Elements(HTMLParser):
    """Every (tag, attributes) in a fragment, as a browser would see them."""

    def __init__(self, fragment: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_inert(html: str) -> None:
    for tag, attrs in _Elements(html).elements:
        assert tag in ALLOWED_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            if name in ("href", "src"):
                scheme = value.split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in ("", "http", "https", "mailto"), html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](javascript:alert(1))",
        '![x](https://e.org/x.png "a\\" onerror=\\"alert(1)")',
        "$</span><script>alert(1)</script>$",
        "$$</div><img src=x onerror=alert(1)>$$",
        "$$\n</div><script>alert(1)</script>\n$$",
        "<svg onload=alert(1)>",
        "<iframe src=//evil></iframe>",
        "[a](<javascript:alert(1)>)",
        "<!-- level: x --><style>body{}</style>",
    ],
)
def test_attacks_come_out_inert(attack):
    assert_inert(render_markdown(attack))
    assert_inert(render_inline(attack))


def test_links_get_noopener_nofollow():
    html = render_markdown("[ok](https://example.com)")
    assert 'rel="noopener nofollow"' in html and 'href="https://example.com"' in html


def test_inline_rendering_has_no_paragraph():
    assert render_inline("*a* $x$") == '<em>a</em> <span class="math math-inline">\\(x\\)</span>'


def test_material_and_prompt():
    course = read_ramp(GOOD_RAMP)
    concept = course.concept("adding-fractions")
    levels = render_material(concept)
    assert [name for name, _ in levels] == ["intuition", "formal"]
    assert "math-display" in levels[1][1]
    v = draw_variant(concept.item("add-unlike-template"), 4)
    html = render_prompt(v)
    assert "\\frac{" in html and "{a}" not in html


def test_math_with_markup_stays_text_inside_its_span():
    html = render_markdown("$</span><script>alert(1)</script>$")
    assert html == (
        '<p><span class="math math-inline">\\(&lt;/span&gt;&lt;script&gt;alert(1)'
        "&lt;/script&gt;\\)</span></p>\n"
    )


def test_text_full_of_dollars_renders_quickly():
    import time

    started = time.perf_counter()
    for text in ["$a " * 5000, "$$\n" * 3000, "x$" * 5000]:
        render_markdown(text)
    assert time.perf_counter() - started < 5


def test_a_fraction_written_as_plain_text_renders_as_math():
    html = render_markdown("What is 11/4 as a mixed number? Add 2 3/4 and 1/2.")
    assert '<span class="math math-inline">\\(\\frac{11}{4}\\)</span>' in html
    assert "\\(2\\frac{3}{4}\\)" in html and "\\(\\frac{1}{2}\\)" in html
    # not dates, paths, code or decimals
    for text in ["2026/12/06", "a/b/c", "`1/2`", "0.5/2", "x/2", "1/2/3"]:
        assert "math" not in render_markdown(text), text
