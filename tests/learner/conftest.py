from pathlib import Path

import pytest

from courses.ramp_files import read_ramp
from courses.ramp_import import course_import
from courses.services import course_publish

FIXTURE = Path(__file__).resolve().parents[1] / "courses" / "fixtures" / "good-ramp"


@pytest.fixture
def published_course(make_user):
    owner = make_user("educator")
    course = course_import(spec=read_ramp(FIXTURE), user=owner).course
    course_publish(course=course)
    course.refresh_from_db()
    return course
