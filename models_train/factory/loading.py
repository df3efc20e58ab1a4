"""CourseSpecs from ramp folders/zips, or from the database by course slug."""

from __future__ import annotations

from pathlib import Path

from courses.ramp_files import read_ramp
from courses.specs import CourseSpec, RampFileError


class RampLoadError(ValueError):
    """A ramp that couldn't be read: `ref` as given, `message` says why (every file:line)."""

    def __init__(self, ref: str, message: str):
        self.ref, self.message = ref, message
        super().__init__(f"{ref}: {message}")


def load_course(ref: str, *, allow_db: bool = True) -> CourseSpec:
    """`ref` is a ramp folder or .zip, else (allow_db) the slug of a course in the database."""
    path = Path(ref)
    if path.exists():
        try:
            return read_ramp(path)
        except RampFileError as e:
            raise RampLoadError(
                ref,
                "the ramp can't be read:\n"
                + "\n".join(f"  {f}:{n}: {m}" if n else f"  {f}: {m}" for f, n, m in e.problems),
            ) from None
        except OSError as e:
            raise RampLoadError(ref, f"the ramp can't be read: {e}") from None
    if not allow_db or "/" in ref or ref.startswith("."):
        raise RampLoadError(ref, "no such ramp folder or file")
    from courses.models import Course  # Django: only when asked for a course in the database
    from courses.ramp_import import course_to_spec

    course = Course.objects.filter(slug=ref).first()
    if course is None:
        raise RampLoadError(ref, "no such ramp folder, and no course with this slug in the database")
    return course_to_spec(course=course)


def load_courses(refs, *, allow_db: bool = True) -> tuple[list[CourseSpec], list[RampLoadError]]:
    """(courses read, errors): a ref that fails is reported, not fatal (the caller decides)."""
    courses, errors = [], []
    for ref in refs:
        try:
            courses.append(load_course(str(ref), allow_db=allow_db))
        except RampLoadError as e:
            errors.append(e)
    return courses, errors
