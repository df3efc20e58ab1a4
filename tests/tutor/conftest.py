"""Fixtures of the study-loop tests: the seed fractions ramp, imported and published."""

from pathlib import Path

import pytest

FRACTIONS = Path(__file__).resolve().parents[2] / "ramps" / "fractions-to-linear-equations"


@pytest.fixture
def fractions(make_user):
    from courses.ramp_files import read_ramp
    from courses.ramp_import import course_import
    from courses.services import course_publish

    course = course_import(spec=read_ramp(FRACTIONS), user=make_user("educator")).course
    course_publish(course=course)
    course.refresh_from_db()
    return course
