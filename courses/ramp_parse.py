"""Reading a ramp's files into specs, validating as we go.

Every problem is a RampFileError that names the file, the line and what is wrong: types,
required fields, ranges, sizes, unknown keys, expressions that don't parse or use unknown
names, placeholders that name no value, misconception matches that can't apply. Questions
about the ramp as a whole (cycles, answers that fail their checker, …) are the ramp checks'.
"""

from __future__ import annotations

import keyword
import re

from .characters import invisible_character, unsafe_character
from .checkers import normalise_text
from .expressions import FUNCTIONS, ExpressionError, compile_expression
from .patterns import MAX_PATTERN, PatternError, compile_pattern
from .placeholders import PlaceholderError, placeholder_names
from .ramp_yaml import YList, YMap, load_yaml
from .specs import (
    DEFAULT_VARIABLES,
    ITEM_TYPES,
    LEVELS,
    MATCH_KINDS,
    MATCH_KINDS_FOR_TYPE,
    ConceptSpec,
    CourseSpec,
    ItemSpec,
    Match,
    MaterialLevel,
    MisconceptionSpec,
    ParamSpec,
    RampFileError,
)

# --- limits (a ramp is authored by hand; anything far beyond these is a mistake or abuse) --
MAX_COURSE_FILE_BYTES = 64 * 1024
MAX_CONCEPT_FILE_BYTES = 512 * 1024
MAX_CONCEPTS = 500
MAX_ITEMS_PER_CONCEPT = 200
MAX_MISCONCEPTIONS = 50
MAX_HINTS = 10
MAX_CHOICES = 26
MAX_PARAMS = 12
MAX_PARAM_CHOICES = 100
MAX_EXPRESSIONS = 30  # constraints, derived values
MAX_TERMS = 50
MAX_PARAM_MAGNITUDE = 10**9
MAX_SLUG = 80
MAX_TITLE = 200
MAX_TERM = 100
MAX_TEXT = 5_000  # prompt, hint, solution, diagnosis, probe, choice
MAX_SUMMARY = 2_000
MAX_LEVEL_TEXT = 100_000

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_MARKER = re.compile(r"^\s*<!--\s*level:\s*(\S*?)\s*-->\s*$")
_MARKER_LIKE = re.compile(r"^\s*<!--\s*level\b", re.IGNORECASE)
_RESERVED_NAMES = set(FUNCTIONS) | {"pi"}

COURSE_KEYS = (
    "format",
    "slug",
    "title",
    "summary",
    "language",
    "version",
    "target_success",
    "mastery_threshold",
    "concepts",
)
CONCEPT_KEYS = ("slug", "title", "prerequisites", "introduces", "misconceptions", "items")
_COMMON_ITEM_KEYS = (
    "slug",
    "type",
    "difficulty",
    "prompt",
    "hints",
    "solution",
    "params",
    "constraints",
    "derived",
    "misconceptions",
)
ITEM_KEYS = {
    "numeric": _COMMON_ITEM_KEYS + ("answer", "tolerance", "units"),
    "multiple_choice": _COMMON_ITEM_KEYS + ("choices", "answer"),
    "short_text": _COMMON_ITEM_KEYS + ("answer", "answers"),
    "expression": _COMMON_ITEM_KEYS + ("answer", "variables"),
    "ordering": _COMMON_ITEM_KEYS + ("choices",),
}
MISCONCEPTION_KEYS = ("slug", "diagnosis", "probe", "match")


# --- reading one YAML mapping -------------------------------------------------------------


class _Fields:
    """One mapping being read: typed getters that fail with the file, line and field."""

    def __init__(self, data, file: str, where: str, allowed, line: int = 0):
        if not isinstance(data, YMap):
            raise RampFileError(
                file, line or getattr(data, "line", 0), f"{where}: expected a mapping of fields"
            )
        self.data, self.file, self.where = data, file, where
        unknown = [k for k in data if k not in allowed]
        if unknown:
            self.fail(
                unknown[0],
                f"unknown field{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(unknown)} (allowed here: {', '.join(allowed)})",
                name=False,
            )

    def line(self, key: str | None = None) -> int:
        if key is None:
            return self.data.line
        return self.data.key_lines.get(key, self.data.line)

    def fail(self, key: str | None, message: str, *, name: bool = True, line: int | None = None):
        field = f"{key}: " if key and name else ""
        prefix = f"{self.where}: " if self.where else ""
        raise RampFileError(self.file, line or self.line(key), f"{prefix}{field}{message}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(
        self, key: str, *, required=False, default="", max_len=MAX_TEXT, nonempty=False, typed=False
    ) -> str:
        """`typed`: part of an answer key, which a learner must be able to type."""
        if not self.has(key):
            if required:
                self.fail(None, f"'{key}' is missing")
            return default
        value = self.data[key]
        if isinstance(value, (YMap, YList)):
            self.fail(key, "should be text, not a " + ("mapping" if isinstance(value, YMap) else "list"))
        return self._check_text(key, self.data.raw[key], max_len, nonempty or required, typed=typed)

    def _check_text(
        self, key, text: str, max_len: int, nonempty: bool, line: int | None = None, typed=False
    ) -> str:
        if len(text) > max_len:
            self.fail(key, f"longer than {max_len} characters", line=line)
        if nonempty and not text.strip():
            self.fail(key, "is empty", line=line)
        if "\x00" in text:
            self.fail(key, "contains a NUL character", line=line)
        problem = unsafe_character(text) or (invisible_character(text) if typed else None)
        if problem:
            self.fail(key, problem[1], line=line)
        return text

    def slug(self, key: str = "slug") -> str:
        s = self.text(key, required=True, max_len=MAX_SLUG)
        if not SLUG.match(s):
            self.fail(key, f"'{s}' is not a slug (lowercase letters, digits and single hyphens)")
        return s

    def text_list(
        self,
        key: str,
        *,
        max_items: int,
        max_len=MAX_TEXT,
        unique=False,
        allow_scalar=False,
        nonempty=True,
        typed=False,
    ) -> tuple[str, ...]:
        if not self.has(key):
            return ()
        value = self.data[key]
        if allow_scalar and not isinstance(value, (YMap, YList)):
            return (self.text(key, max_len=max_len, nonempty=True, typed=typed),)
        if not isinstance(value, YList):
            self.fail(key, "should be a list")
        if len(value) > max_items:
            self.fail(key, f"more than {max_items} entries")
        result = []
        for i, entry in enumerate(value):
            line = value.item_lines[i]
            if isinstance(entry, (YMap, YList)) or entry is None:
                self.fail(key, f"entry {i + 1} should be text", line=line)
            text = self._check_text(key, value.raw[i], max_len, nonempty, line, typed=typed)
            if unique and text.casefold() in (r.casefold() for r in result):
                self.fail(key, f"'{text}' is listed twice", line=line)
            result.append(text)
        return tuple(result)

    def entry_lines(self, key: str) -> list[int]:
        value = self.data.get(key)
        return list(value.item_lines) if isinstance(value, YList) else []

    def number(self, key: str, *, default: float, lo: float, hi: float, integer=False):
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, "should be a whole number" if integer else "should be a number")
        if integer and not isinstance(value, int):
            self.fail(key, "should be a whole number")
        if not (lo <= value <= hi):  # also false for NaN
            self.fail(key, f"should be between {lo} and {hi}")
        return int(value) if integer else float(value)

    def mapping(self, key: str) -> YMap | None:
        if not self.has(key):
            return None
        value = self.data[key]
        if not isinstance(value, YMap):
            self.fail(key, "should be a mapping (name: value)")
        return value

    def list_of_mappings(self, key: str, max_items: int) -> list[tuple[YMap, int]]:
        if not self.has(key):
            return []
        value = self.data[key]
        if not isinstance(value, YList):
            self.fail(key, "should be a list")
        if len(value) > max_items:
            self.fail(key, f"more than {max_items} entries")
        for i, entry in enumerate(value):
            if not isinstance(entry, YMap):
                self.fail(key, f"entry {i + 1} should be a mapping of fields", line=value.item_lines[i])
        return list(zip(value, value.item_lines))


# --- course.yaml --------------------------------------------------------------------------


def parse_course_yaml(data: bytes, file: str = "course.yaml") -> tuple[CourseSpec, list[tuple[str, int]]]:
    """The course fields (no concepts yet) and the listed concept slugs with their lines."""
    if len(data) > MAX_COURSE_FILE_BYTES:
        raise RampFileError(file, 0, f"larger than {MAX_COURSE_FILE_BYTES} bytes")
    f = _Fields(load_yaml(decode(data, file), file), file, "", COURSE_KEYS)
    if not f.has("format"):
        f.fail(None, "'format' is missing (this is format 1)")
    if f.data["format"] != 1 or isinstance(f.data["format"], bool):
        f.fail("format", f"unsupported format {f.data.raw.get('format', '?')!r}; this is format 1")
    listed = f.text_list("concepts", max_items=MAX_CONCEPTS, max_len=MAX_SLUG, unique=True)
    if not listed:
        f.fail(None, "'concepts' is missing or empty: list the concept slugs in order")
    for slug, line in zip(listed, f.entry_lines("concepts")):
        if not SLUG.match(slug):
            f.fail("concepts", f"'{slug}' is not a slug", line=line)
    language = f.text("language", default="en", max_len=20)
    if not _LANGUAGE.match(language):
        f.fail("language", f"'{language}' is not a language code like en or pt-BR")
    course = CourseSpec(
        format=1,
        slug=f.slug(),
        title=f.text("title", required=True, max_len=MAX_TITLE),
        summary=f.text("summary", max_len=MAX_SUMMARY),
        language=language,
        version=f.number("version", default=1, lo=1, hi=10**9, integer=True),
        target_success=f.number("target_success", default=0.85, lo=0.01, hi=0.99),
        mastery_threshold=f.number("mastery_threshold", default=0.95, lo=0.01, hi=0.999),
        lines={k: f.line(k) for k in f.data},
    )
    return course, list(zip(listed, f.entry_lines("concepts")))


# --- concept files ------------------------------------------------------------------------


def decode(data: bytes, file: str) -> str:
    """UTF-8 text with \\n line ends (a BOM is dropped)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RampFileError(file, data[: e.start].count(b"\n") + 1, "is not valid UTF-8 text") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, file: str) -> tuple[str, int, str, int]:
    """(front matter, its first line, body, its first line) of a concept file."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise RampFileError(file, 1, "should start with a '---' line that opens the YAML front matter")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]) + "\n", 2, "\n".join(lines[i + 1 :]), i + 2
    raise RampFileError(file, 1, "the front matter is never closed by a '---' line")


def parse_concept(data: bytes, file: str, expected_slug: str | None = None) -> ConceptSpec:
    if len(data) > MAX_CONCEPT_FILE_BYTES:
        raise RampFileError(file, 0, f"larger than {MAX_CONCEPT_FILE_BYTES} bytes")
    front, front_line, body, body_line = split_front_matter(decode(data, file), file)
    f = _Fields(load_yaml(front, file, front_line), file, "", CONCEPT_KEYS)
    slug = f.slug()
    if expected_slug is not None and slug != expected_slug:
        f.fail("slug", f"'{slug}' doesn't match the file name ({expected_slug}.md)")
    prerequisites = f.text_list("prerequisites", max_items=MAX_CONCEPTS, max_len=MAX_SLUG, unique=True)
    for p, line in zip(prerequisites, f.entry_lines("prerequisites")):
        if not SLUG.match(p):
            f.fail("prerequisites", f"'{p}' is not a slug", line=line)
    misconceptions = _misconceptions(f, file, f"concept {slug}", None)
    items = []
    for data_, line in f.list_of_mappings("items", MAX_ITEMS_PER_CONCEPT):
        item = _item(data_, file, line)
        if any(i.slug == item.slug for i in items):
            raise RampFileError(file, item.line, f"item {item.slug}: a second item with this slug")
        items.append(item)
    return ConceptSpec(
        slug=slug,
        title=f.text("title", required=True, max_len=MAX_TITLE),
        prerequisites=prerequisites,
        introduces=tuple(
            " ".join(t.split())
            for t in f.text_list("introduces", max_items=MAX_TERMS, max_len=MAX_TERM, unique=True)
        ),
        misconceptions=misconceptions,
        items=tuple(items),
        material=parse_material(body, body_line, file),
        file=file,
        lines={**{k: f.line(k) for k in f.data}, "body": body_line},
    )


def parse_material(body: str, first_line: int, file: str) -> tuple[MaterialLevel, ...]:
    levels: list[MaterialLevel] = []
    name, marker_line, buf = None, 0, []

    def close():
        if name is not None:
            skipped = next((i for i, ln in enumerate(buf) if ln.strip()), len(buf))
            text = _clean_level_text(buf)
            if len(text) > MAX_LEVEL_TEXT:
                raise RampFileError(
                    file, marker_line, f"level {name}: longer than {MAX_LEVEL_TEXT} characters"
                )
            if "\x00" in text:
                raise RampFileError(file, marker_line, f"level {name}: contains a NUL character")
            levels.append(MaterialLevel(name, text, marker_line, marker_line + 1 + skipped))

    for i, line in enumerate(body.split("\n")):
        number = first_line + i
        problem = unsafe_character(line)
        if problem:
            where = f"level {name}: " if name else ""
            raise RampFileError(file, number, f"{where}{problem[1]}")
        m = _MARKER.match(line)
        if m:
            close()
            name, marker_line, buf = m.group(1), number, []
            if name not in LEVELS:
                raise RampFileError(file, number, f"unknown level '{name}' (levels: {', '.join(LEVELS)})")
            if any(lv.name == name for lv in levels):
                raise RampFileError(file, number, f"level {name} appears twice")
            if levels and LEVELS.index(name) < LEVELS.index(levels[-1].name):
                raise RampFileError(file, number, f"level {name} should come before {levels[-1].name}")
        elif _MARKER_LIKE.match(line):
            raise RampFileError(file, number, "malformed level marker: write <!-- level: NAME -->")
        elif name is None:
            if line.strip():
                raise RampFileError(file, number, "material must start with a <!-- level: NAME --> line")
        else:
            buf.append(line)
    close()
    if not levels:
        raise RampFileError(
            file, first_line, "no material: add at least one <!-- level: intuition --> section"
        )
    return tuple(levels)


def _clean_level_text(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    return "\n".join(lines).rstrip()


# --- items --------------------------------------------------------------------------------


def _item(data: YMap, file: str, line: int) -> ItemSpec:
    if not isinstance(data.get("slug"), (str, int)) or isinstance(data.get("slug"), bool):
        where = "item"
    else:
        where = f"item {data.raw.get('slug', '')}"
    pre = _Fields(data, file, where, tuple(data.keys()), line)  # read slug and type first
    slug = pre.slug()
    item_type = pre.text("type", required=True, max_len=40)
    if item_type not in ITEM_TYPES:
        pre.fail("type", f"'{item_type}' is not an item type ({', '.join(ITEM_TYPES)})")
    f = _Fields(data, file, f"item {slug}", ITEM_KEYS[item_type], line)

    params = _params(f)
    names: set[str] = {p.name for p in params}
    derived = _derived(f, names)
    names |= {n for n, _ in derived}
    constraints = f.text_list("constraints", max_items=MAX_EXPRESSIONS, max_len=500)
    if constraints and not names:
        f.fail("constraints", "constraints need params")
    for source, cline in zip(constraints, f.entry_lines("constraints")):
        _expression(f, "constraints", source, names, cline)

    variables: tuple[str, ...] = ()
    if item_type == "expression":
        variables = f.text_list("variables", max_items=10, max_len=20, unique=True) or DEFAULT_VARIABLES
        for v in variables:
            if not _IDENT.match(v) or keyword.iskeyword(v) or v in _RESERVED_NAMES or v in names:
                f.fail("variables", f"'{v}' can't be a variable name (or it is already a param)")

    answer, answers, choices, tolerance, units = None, (), (), None, ()
    if item_type in ("multiple_choice", "ordering"):
        choices = f.text_list("choices", max_items=MAX_CHOICES, unique=True, typed=True)
        if len(choices) < 2:
            f.fail("choices", "at least two choices are needed")
        _check_lookalikes(f, choices)
    if item_type in ("numeric", "expression"):
        answer = f.text("answer", required=True, max_len=500)
        _expression(f, "answer", answer, names | set(variables))
    elif item_type == "multiple_choice":
        answer = f.text("answer", required=True, typed=True)
        if answer not in choices:
            f.fail(
                "answer",
                "should be exactly the text of one of the choices" + _lookalike_hint(answer, choices),
            )
    elif item_type == "short_text":
        if f.has("answer") and f.has("answers"):
            f.fail("answers", "give either 'answer' or 'answers', not both")
        answers = f.text_list("answers", max_items=20, unique=True, typed=True) or (
            f.text("answer", required=True, typed=True),
        )
    if item_type == "numeric":
        if f.has("tolerance"):
            f.number("tolerance", default=0.0, lo=0.0, hi=1e12)
            tolerance = f.data.raw["tolerance"]
        units = f.text_list("units", max_items=10, max_len=30, allow_scalar=True, unique=True, typed=True)

    misconceptions = _misconceptions(f, file, f"item {slug}", (item_type, choices, names | set(variables)))
    item = ItemSpec(
        slug=slug,
        type=item_type,
        prompt=f.text("prompt", required=True),
        difficulty=f.number("difficulty", default=0.0, lo=-5.0, hi=5.0),
        answer=answer,
        answers=answers,
        choices=choices,
        tolerance=tolerance,
        units=units,
        variables=variables,
        hints=f.text_list("hints", max_items=MAX_HINTS),
        solution=f.text("solution"),
        params=params,
        constraints=constraints,
        derived=derived,
        misconceptions=misconceptions,
        line=line,
        lines={k: f.line(k) for k in data},
    )
    if item.is_template:
        _check_placeholders(f, item, names)
    return item


def _check_lookalikes(f: _Fields, choices: tuple[str, ...]) -> None:
    """Choices a learner can't tell apart: equal once Unicode normalisation (é written as one
    character or as e plus an accent), case, spacing and invisible characters are ignored.
    The grader reads a typed or pasted choice that way, so it couldn't tell them apart either."""
    seen: dict[str, str] = {}
    for choice, line in zip(choices, f.entry_lines("choices")):
        key = normalise_text(choice)
        if key in seen:
            f.fail(
                "choices",
                f"'{choice}' looks the same as '{seen[key]}' (they differ only in how characters are "
                "encoded, in case, spacing or a trailing full stop); a learner can't tell them apart",
                line=line,
            )
        seen[key] = choice


def _lookalike_hint(text: str, choices: tuple[str, ...]) -> str:
    twin = next((c for c in choices if normalise_text(c) == normalise_text(text)), None)
    if twin is None:
        return ""
    return f" ('{twin}' looks the same but is encoded differently: copy the choice's text)"


def _params(f: _Fields) -> tuple[ParamSpec, ...]:
    data = f.mapping("params")
    if data is None:
        return ()
    if len(data) > MAX_PARAMS:
        f.fail("params", f"more than {MAX_PARAMS} params")
    params = []
    for name, spec in data.items():
        line = data.key_lines[name]
        _check_name(f, "params", name, line)
        p = _Fields(spec, f.file, f"{f.where}: params: {name}", ("range", "step", "choices"), line)
        if p.has("range") == p.has("choices"):
            p.fail(None, "give either range: [lo, hi] or choices: [...]")
        if p.has("choices"):
            if p.has("step"):
                p.fail("step", "step goes with range, not choices")
            choices = p.text_list(
                "choices", max_items=MAX_PARAM_CHOICES, max_len=200, unique=True, typed=True
            )
            if not choices:
                p.fail("choices", "is empty")
            params.append(ParamSpec(name, choices=choices))
            continue
        bounds = p.data["range"]
        if (
            not isinstance(bounds, YList)
            or len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, int) for b in bounds)
        ):
            p.fail("range", "should be [lo, hi] with two whole numbers")
        lo, hi = bounds
        if max(abs(lo), abs(hi)) > MAX_PARAM_MAGNITUDE or lo > hi:
            p.fail("range", f"should have lo <= hi, both within ±{MAX_PARAM_MAGNITUDE}")
        step = p.number("step", default=1, lo=1, hi=MAX_PARAM_MAGNITUDE, integer=True)
        params.append(ParamSpec(name, lo=lo, hi=hi, step=step))
    return tuple(params)


def _derived(f: _Fields, names: set[str]) -> tuple[tuple[str, str], ...]:
    data = f.mapping("derived")
    if data is None:
        return ()
    if len(data) > MAX_EXPRESSIONS:
        f.fail("derived", f"more than {MAX_EXPRESSIONS} derived values")
    known = set(names)
    result = []
    for name, value in data.items():
        line = data.key_lines[name]
        _check_name(f, "derived", name, line)
        if name in known:
            f.fail("derived", f"'{name}' is already a param or derived value", line=line)
        if isinstance(value, (YMap, YList)) or value is None:
            f.fail("derived", f"{name} should be an expression", line=line)
        source = data.raw[name]
        _expression(f, "derived", source, known, line)
        known.add(name)
        result.append((name, source))
    return tuple(result)


def _check_name(f: _Fields, key: str, name: str, line: int) -> None:
    if not _IDENT.match(name) or keyword.iskeyword(name) or name in _RESERVED_NAMES or len(name) > 40:
        f.fail(key, f"'{name}' can't be a name (letters, digits, _; not a function name)", line=line)


def _expression(f: _Fields, key: str, source: str, names: set[str], line: int | None = None) -> None:
    try:
        expr = compile_expression(source)
    except ExpressionError as e:
        f.fail(key, str(e), line=line)
    unknown = sorted(expr.names - names)
    if unknown:
        f.fail(
            key,
            f"`{source}` uses unknown name{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            line=line,
        )


def _check_placeholders(f: _Fields, item: ItemSpec, names: set[str]) -> None:
    texts = [("prompt", item.prompt), ("solution", item.solution)]
    texts += [("hints", h) for h in item.hints] + [("choices", c) for c in item.choices]
    texts += [("answers", a) for a in item.answers]
    if item.type == "multiple_choice":
        texts.append(("answer", item.answer))
    for m in item.misconceptions:
        texts += [("misconceptions", m.diagnosis), ("misconceptions", m.probe)]
        if m.match and m.match.kind in ("answer", "choice", "order"):
            values = m.match.value if isinstance(m.match.value, tuple) else (m.match.value,)
            texts += [("misconceptions", v) for v in values]
    for key, text in texts:
        try:
            unknown = sorted(set(placeholder_names(text)) - names)
        except PlaceholderError as e:
            f.fail(key, str(e))
        if unknown:
            f.fail(key, f"placeholder {{{unknown[0]}}} names no param or derived value")


# --- misconceptions -----------------------------------------------------------------------


def _misconceptions(f: _Fields, file: str, where: str, item) -> tuple[MisconceptionSpec, ...]:
    """`item` is (type, choices, names) for item-level misconceptions, None at concept level
    (where a match is checked against each item it is applied to, by the ramp checks)."""
    result = []
    for data, line in f.list_of_mappings("misconceptions", MAX_MISCONCEPTIONS):
        slug_text = data.raw.get("slug", "")
        m = _Fields(data, file, f"{where}: misconception {slug_text}".rstrip(), MISCONCEPTION_KEYS, line)
        slug = m.slug()
        if any(r.slug == slug for r in result):
            m.fail("slug", "a second misconception with this slug")
        result.append(
            MisconceptionSpec(
                slug=slug,
                diagnosis=m.text("diagnosis", required=True),
                probe=m.text("probe"),
                match=_match(m, item),
                line=line,
            )
        )
    return tuple(result)


def _match(m: _Fields, item) -> Match | None:
    data = m.mapping("match")
    if data is None:
        return None
    if len(data) != 1 or next(iter(data)) not in MATCH_KINDS:
        m.fail("match", f"should be one of {{{'|'.join(MATCH_KINDS)}: ...}}")
    kind = next(iter(data))
    line = data.key_lines[kind]
    sub = _Fields(data, m.file, m.where + ": match", MATCH_KINDS, line)
    if kind == "order":
        value = sub.text_list("order", max_items=MAX_CHOICES, typed=True)
        if not value:
            sub.fail("order", "should list the steps")
    else:
        value = sub.text(
            kind,
            required=True,
            max_len=MAX_PATTERN if kind == "pattern" else MAX_TEXT,
            typed=kind in ("answer", "choice"),
        )
    if kind == "pattern":
        try:
            compile_pattern(value)
        except PatternError as e:
            sub.fail("pattern", str(e))
    if kind in ("value", "expression"):
        try:
            compile_expression(value)
        except ExpressionError as e:
            sub.fail(kind, str(e))
    if item is not None:
        item_type, choices, names = item
        if kind not in MATCH_KINDS_FOR_TYPE[item_type]:
            sub.fail(
                kind,
                f"a {item_type} item is matched with "
                f"{' or '.join(MATCH_KINDS_FOR_TYPE[item_type])}, not {kind}",
            )
        if kind in ("value", "expression"):
            _expression(sub, kind, value, names, line)
        if kind == "choice" and value not in choices:
            sub.fail("choice", "should be exactly the text of one of the choices")
        if kind == "order" and sorted(value) != sorted(choices):
            sub.fail("order", "should list every choice exactly once")
    return Match(kind, tuple(value) if kind == "order" else value)
