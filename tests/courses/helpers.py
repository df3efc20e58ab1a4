"""Shared helpers for the courses tests: the fixture ramp as an editable mapping of files."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_RAMP = FIXTURES / "good-ramp"


def good_files() -> dict[str, bytes]:
    """The good fixture ramp as {relative path: bytes}."""
    return {
        p.relative_to(GOOD_RAMP).as_posix(): p.read_bytes()
        for p in sorted(GOOD_RAMP.rglob("*"))
        if p.is_file()
    }


def edited(path: str, old: str, new: str, files: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The fixture files with one exact edit (the edit must apply)."""
    files = dict(files or good_files())
    text = files[path].decode()
    assert old in text, f"{old!r} not in {path}"
    files[path] = text.replace(old, new, 1).encode()
    return files


def line_of(files: dict[str, bytes], path: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    for number, line in enumerate(files[path].decode().split("\n"), 1):
        if needle in line:
            occurrence -= 1
            if occurrence == 0:
                return number
    raise AssertionError(f"{needle!r} not in {path}")
