"""The ramp format as plain, frozen dataclasses (no Django): what a ramp folder holds.

`ramp_files` reads and writes them, `variants` draws item variants from them, `ramp_checks`
checks them, and the Django side (models + import service) copies them into the database.
Source positions (`file`, `line`, `lines`) are kept for error messages and findings but take
no part in equality, so a ramp read back from its export compares equal to the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ITEM_TYPES = ("numeric", "multiple_choice", "short_text", "expression", "ordering")
LEVELS = ("intuition", "formal", "worked-example")  # material levels, in this order
MATCH_KINDS = ("value", "answer", "choice", "expression", "order", "pattern")
# the match kinds each item type understands (`pattern` works for all)
MATCH_KINDS_FOR_TYPE = {
    "numeric": ("value", "pattern"),
    "multiple_choice": ("choice", "pattern"),
    "short_text": ("answer", "pattern"),
    "expression": ("expression", "pattern"),
    "ordering": ("order", "pattern"),
}
DEFAULT_TOLERANCE = "1e-9"
DEFAULT_VARIABLES = ("x",)


class RampFileError(ValueError):
    """A ramp that can't be loaded. `file` is relative to the ramp root, `line` is 1-based
    (0 when the problem is the file as a whole). `problems` holds every (file, line, message)
    found, one per file at most; the attributes describe the first."""

    def __init__(self, file: str, line: int, message: str, *, problems=None):
        self.file = file
        self.line = line
        self.message = message
        self.problems: list[tuple[str, int, str]] = problems or [(file, line, message)]
        super().__init__("\n".join(_where(f, n) + m for f, n, m in self.problems))


def _where(file: str, line: int) -> str:
    return f"{file}:{line}: "  # line 0: the file as a whole


@dataclass(frozen=True)
class Match:
    """How a misconception is recognised: `kind` is one of MATCH_KINDS; `value` is text
    (an expression for value/expression, a regex for pattern) or, for `order`, a tuple."""

    kind: str
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class MisconceptionSpec:
    slug: str
    diagnosis: str
    probe: str = ""
    match: Match | None = None  # None: known to the tutor but not recognised automatically
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ParamSpec:
    """A template parameter: integers `lo..hi` by `step`, or one of `choices` (raw text; a
    choice that reads as an integer or decimal is a number, anything else is text)."""

    name: str
    lo: int | None = None
    hi: int | None = None
    step: int = 1
    choices: tuple[str, ...] = ()

    @property
    def is_range(self) -> bool:
        return self.lo is not None


@dataclass(frozen=True)
class ItemSpec:
    """One practice item, fixed or a template (has params or derived values).

    answer: numeric/expression: an expression (text); multiple_choice: the correct choice's
    text; short_text and ordering: None (short_text uses `answers`, ordering the order of
    `choices`). Text fields are raw: `{name}` placeholders are filled by `variants`.
    """

    slug: str
    type: str
    prompt: str
    difficulty: float = 0.0
    answer: str | None = None
    answers: tuple[str, ...] = ()  # short_text: every accepted answer
    choices: tuple[str, ...] = ()  # multiple_choice; ordering: the steps in correct order
    tolerance: str | None = None  # numeric: absolute, exact decimal text; None = 1e-9
    units: tuple[str, ...] = ()  # numeric: accepted spellings of the unit, first is canonical
    variables: tuple[str, ...] = ()  # expression: free variables (default ("x",))
    hints: tuple[str, ...] = ()
    solution: str = ""
    params: tuple[ParamSpec, ...] = ()
    constraints: tuple[str, ...] = ()
    derived: tuple[tuple[str, str], ...] = ()  # (name, expression), evaluated in order
    misconceptions: tuple[MisconceptionSpec, ...] = ()
    line: int = field(default=0, compare=False)
    lines: dict = field(default_factory=dict, compare=False)  # field name -> line

    @property
    def is_template(self) -> bool:
        return bool(self.params or self.derived)

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


@dataclass(frozen=True)
class MaterialLevel:
    name: str  # one of LEVELS
    text: str  # Markdown with $…$ math, leading blank lines and trailing whitespace removed
    line: int = field(default=0, compare=False)  # line of the level marker
    text_line: int = field(default=0, compare=False)  # line where `text` starts


@dataclass(frozen=True)
class ConceptSpec:
    slug: str
    title: str
    prerequisites: tuple[str, ...] = ()
    introduces: tuple[str, ...] = ()  # terms first defined here
    misconceptions: tuple[MisconceptionSpec, ...] = ()  # apply to every item of the concept
    items: tuple[ItemSpec, ...] = ()
    material: tuple[MaterialLevel, ...] = ()
    file: str = field(default="", compare=False)  # relative to the ramp root
    lines: dict = field(default_factory=dict, compare=False)  # field name -> line

    def line_of(self, name: str) -> int:
        return self.lines.get(name, 1)

    def item(self, slug: str) -> ItemSpec:
        for it in self.items:
            if it.slug == slug:
                return it
        raise KeyError(slug)


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    summary: str = ""
    language: str = "en"
    version: int = 1
    target_success: float = 0.85
    mastery_threshold: float = 0.95
    concepts: tuple[ConceptSpec, ...] = ()  # in the authoring order of course.yaml
    format: int = 1
    lines: dict = field(default_factory=dict, compare=False)  # course.yaml field -> line

    def concept(self, slug: str) -> ConceptSpec:
        for c in self.concepts:
            if c.slug == slug:
                return c
        raise KeyError(slug)
