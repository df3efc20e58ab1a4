"""Ramp folders and zip files ⇄ CourseSpec.

    course = read_ramp("ramps/fractions-to-linear-equations")   # a folder or a .zip
    write_ramp(course, "/tmp/out")                                # canonical files

Reading goes through `parse_ramp(files)`, a mapping of relative paths to bytes, so a folder
and an uploaded zip take the same path. Writing is canonical and deterministic: export →
import → export gives byte-identical files. Every problem is a RampFileError naming the file
(relative to the ramp root) and the line; problems in several concept files are reported
together.

Zip uploads come from browsers, so they are read in memory with limits (number of files,
sizes checked while reading, not trusted from the headers) and names are refused when they
are absolute, contain `..` or backslashes, or are symlinks.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from .ramp_parse import (
    MAX_CONCEPT_FILE_BYTES,
    MAX_CONCEPTS,
    MAX_COURSE_FILE_BYTES,
    parse_concept,
    parse_course_yaml,
)
from .ramp_yaml import Flow, FlowMap, NumberText, dump_yaml
from .specs import (
    DEFAULT_VARIABLES,
    ConceptSpec,
    CourseSpec,
    ItemSpec,
    MisconceptionSpec,
    RampFileError,
)

__all__ = [
    "RampFileError",
    "read_ramp",
    "read_ramp_folder",
    "read_ramp_zip",
    "parse_ramp",
    "ramp_to_files",
    "write_ramp",
    "ramp_to_zip",
    "course_yaml_text",
    "concept_file_text",
]

MAX_FILES = MAX_CONCEPTS + 100
MAX_TOTAL_BYTES = 20 * 1024 * 1024
COURSE_FILE = "course.yaml"
CONCEPTS_DIR = "concepts"

# --- reading ------------------------------------------------------------------------------


def read_ramp(path: str | os.PathLike) -> CourseSpec:
    """A ramp from a folder, or from a .zip file."""
    p = Path(path)
    if p.is_file() and zipfile.is_zipfile(p):
        return read_ramp_zip(p, name=p.name)
    return read_ramp_folder(p)


def read_ramp_folder(path: str | os.PathLike) -> CourseSpec:
    root = Path(path)
    if not root.is_dir():
        raise RampFileError(str(path), 0, "is not a folder (or a .zip file)")
    files: dict[str, bytes] = {}
    course = root / COURSE_FILE
    if course.exists() or course.is_symlink():
        files[COURSE_FILE] = _read_regular(course, COURSE_FILE, MAX_COURSE_FILE_BYTES)
    concepts = root / CONCEPTS_DIR
    if concepts.is_symlink():
        raise RampFileError(CONCEPTS_DIR, 0, "is a symlink; ramp files must be real files")
    if concepts.is_dir():
        with os.scandir(concepts) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue  # .gitkeep, .DS_Store
                rel = f"{CONCEPTS_DIR}/{entry.name}"
                if len(files) > MAX_FILES:
                    raise RampFileError(CONCEPTS_DIR, 0, f"more than {MAX_FILES} files")
                if entry.is_dir(follow_symlinks=False):
                    raise RampFileError(rel, 0, "folders inside concepts/ are not part of a ramp")
                files[rel] = _read_regular(Path(entry.path), rel, MAX_CONCEPT_FILE_BYTES)
    return parse_ramp(files)


def _read_regular(path: Path, rel: str, limit: int) -> bytes:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise RampFileError(rel, 0, "is a symlink; ramp files must be real files")
    if not stat.S_ISREG(st.st_mode):
        raise RampFileError(rel, 0, "is not a regular file")
    if st.st_size > limit:
        raise RampFileError(rel, 0, f"larger than {limit} bytes")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise RampFileError(rel, 0, f"larger than {limit} bytes")
    return data


def read_ramp_zip(source: str | os.PathLike | bytes | BinaryIO, *, name: str = "upload.zip") -> CourseSpec:
    """A ramp from a zip of its folder (with or without the folder itself at the top)."""
    return parse_ramp(unpack_zip(source, name=name))


def unpack_zip(source, *, name: str = "upload.zip") -> dict[str, bytes]:
    """The zip's files as {relative path: bytes}, safely and within limits."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RampFileError(name, 0, "is not a zip file") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > 2 * MAX_FILES:
            raise RampFileError(name, 0, f"holds more than {2 * MAX_FILES} entries")
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            path = _safe_member_name(info, name)
            if path is None:
                continue
            limit = MAX_COURSE_FILE_BYTES if path.endswith(COURSE_FILE) else MAX_CONCEPT_FILE_BYTES
            if info.file_size > limit:
                raise RampFileError(f"{name}:{path}", 0, f"larger than {limit} bytes")
            try:
                with archive.open(info) as fh:
                    data = fh.read(limit + 1)  # the header's size may lie: read at most this
            except (
                zipfile.BadZipFile,
                RuntimeError,
                NotImplementedError,
                zlib.error,
                OSError,
                EOFError,
            ) as e:
                raise RampFileError(f"{name}:{path}", 0, f"can't be unpacked ({type(e).__name__})") from None
            if len(data) > limit:
                raise RampFileError(f"{name}:{path}", 0, f"larger than {limit} bytes")
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise RampFileError(name, 0, f"unpacks to more than {MAX_TOTAL_BYTES} bytes")
            if path in files:
                raise RampFileError(name, 0, f"holds {path} twice")
            files[path] = data
    return _strip_wrapper_folder(files)


def _safe_member_name(info: zipfile.ZipInfo, name: str) -> str | None:
    """The member's relative path, None for entries to skip; raises for unsafe ones."""
    path = info.filename
    if "\x00" in path or "\\" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise RampFileError(name, 0, f"unsafe path in zip: {path!r}")
    parts = path.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise RampFileError(name, 0, f"unsafe path in zip: {path!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise RampFileError(name, 0, f"{path} is a symlink; ramp files must be real files")
    if info.flag_bits & 0x1:
        raise RampFileError(name, 0, f"{path} is encrypted")
    if info.is_dir() or any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return None
    return "/".join(parts)


def _strip_wrapper_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    if COURSE_FILE in files or not files:
        return files
    tops = {path.split("/", 1)[0] for path in files}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/{COURSE_FILE}" in files:
            return {path[len(top) + 1 :]: data for path, data in files.items()}
    return files


def parse_ramp(files: Mapping[str, bytes]) -> CourseSpec:
    """A ramp from {relative path: bytes}: `course.yaml` and `concepts/<slug>.md`; other
    top-level files (README, LICENSE, …) are ignored."""
    if COURSE_FILE not in files:
        raise RampFileError(COURSE_FILE, 0, "is missing: a ramp folder holds course.yaml and concepts/")
    course, listed = parse_course_yaml(files[COURSE_FILE], COURSE_FILE)
    problems: list[tuple[str, int, str]] = []
    concept_files = {}
    for path in files:
        if not path.startswith(CONCEPTS_DIR + "/"):
            continue
        rest = path[len(CONCEPTS_DIR) + 1 :]
        if "/" in rest or not rest.endswith(".md"):
            problems.append((path, 0, "only <slug>.md files belong in concepts/"))
        else:
            concept_files[rest[:-3]] = path
    concepts = []
    for slug, line in listed:
        path = concept_files.pop(slug, None)
        if path is None:
            problems.append(
                (COURSE_FILE, line, f"concept {slug} is listed but concepts/{slug}.md is missing")
            )
            continue
        try:
            concepts.append(parse_concept(files[path], path, slug))
        except RampFileError as e:
            problems.extend(e.problems)
    for slug, path in sorted(concept_files.items()):
        problems.append((path, 1, f"concept {slug} is not listed under 'concepts' in course.yaml"))
    if problems:
        raise RampFileError(*problems[0], problems=problems)
    lines = dict(course.lines)
    lines.update({f"concept:{slug}": line for slug, line in listed})
    return CourseSpec(**{**_fields(course), "concepts": tuple(concepts), "lines": lines})


def _fields(course: CourseSpec) -> dict:
    return {k: getattr(course, k) for k in course.__dataclass_fields__}


# --- writing ------------------------------------------------------------------------------


def course_yaml_text(course: CourseSpec) -> str:
    data: dict = {"format": course.format, "slug": course.slug, "title": course.title}
    if course.summary:
        data["summary"] = course.summary
    data.update(
        language=course.language,
        version=course.version,
        target_success=course.target_success,
        mastery_threshold=course.mastery_threshold,
        concepts=[c.slug for c in course.concepts],
    )
    return dump_yaml(data)


def concept_file_text(concept: ConceptSpec) -> str:
    data: dict = {
        "slug": concept.slug,
        "title": concept.title,
        "prerequisites": Flow(concept.prerequisites),
        "introduces": Flow(concept.introduces),
    }
    if concept.misconceptions:
        data["misconceptions"] = [_misconception(m) for m in concept.misconceptions]
    if concept.items:
        data["items"] = [_item(i) for i in concept.items]
    body = "\n".join(f"<!-- level: {lv.name} -->\n{lv.text}\n" for lv in concept.material)
    return f"---\n{dump_yaml(data)}---\n{body}"


def _item(item: ItemSpec) -> dict:
    d: dict = {"slug": item.slug, "type": item.type, "difficulty": item.difficulty}
    if item.params:
        d["params"] = {p.name: _param(p) for p in item.params}
    if item.constraints:
        d["constraints"] = list(item.constraints)
    if item.derived:
        d["derived"] = {name: NumberText(source) for name, source in item.derived}
    if item.type == "expression" and item.variables != DEFAULT_VARIABLES:
        d["variables"] = Flow(item.variables)
    d["prompt"] = item.prompt
    if item.choices:
        d["choices"] = list(item.choices)
    if item.type in ("numeric", "expression"):
        d["answer"] = NumberText(item.answer)
    elif item.type == "multiple_choice":
        d["answer"] = item.answer
    elif item.type == "short_text":
        if len(item.answers) == 1:
            d["answer"] = item.answers[0]
        else:
            d["answers"] = list(item.answers)
    if item.tolerance is not None:
        d["tolerance"] = NumberText(item.tolerance)
    if item.units:
        d["units"] = item.units[0] if len(item.units) == 1 else Flow(item.units)
    if item.hints:
        d["hints"] = list(item.hints)
    if item.solution:
        d["solution"] = item.solution
    if item.misconceptions:
        d["misconceptions"] = [_misconception(m) for m in item.misconceptions]
    return d


def _param(p) -> FlowMap:
    if p.is_range:
        spec = FlowMap(range=Flow([p.lo, p.hi]))
        if p.step != 1:
            spec["step"] = p.step
        return spec
    return FlowMap(choices=Flow(NumberText(c) for c in p.choices))


def _misconception(m: MisconceptionSpec) -> dict:
    d: dict = {"slug": m.slug, "diagnosis": m.diagnosis}
    if m.probe:
        d["probe"] = m.probe
    if m.match is not None:
        value = Flow(m.match.value) if m.match.kind == "order" else NumberText(m.match.value)
        d["match"] = FlowMap({m.match.kind: value})
    return d


def ramp_to_files(course: CourseSpec) -> dict[str, bytes]:
    files = {COURSE_FILE: course_yaml_text(course).encode()}
    for c in course.concepts:
        files[f"{CONCEPTS_DIR}/{c.slug}.md"] = concept_file_text(c).encode()
    return files


def write_ramp(course: CourseSpec, path: str | os.PathLike) -> None:
    """Write the ramp's files under `path`; concept files that are no longer part of the
    course are removed (they would make the folder unreadable)."""
    root = Path(path)
    (root / CONCEPTS_DIR).mkdir(parents=True, exist_ok=True)
    files = ramp_to_files(course)
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    for old in (root / CONCEPTS_DIR).glob("*.md"):
        if f"{CONCEPTS_DIR}/{old.name}" not in files and old.is_file() and not old.is_symlink():
            old.unlink()


def ramp_to_zip(course: CourseSpec) -> bytes:
    """A deterministic zip of the ramp folder (named after the course) for download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel, data in sorted(ramp_to_files(course).items()):
            info = zipfile.ZipInfo(f"{course.slug}/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
