"""``manage.py simulate_learners``: the Django wrapper over the benchmark's command line."""

import io
import json

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_a_course_in_the_database_is_benchmarked_with_its_json_line_last(published_course):
    out = io.StringIO()
    call_command("simulate_learners", "--ramp", published_course.slug, "--quick", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["ramp"]["source"] == f"db:{published_course.slug}"
    assert summary["ramp"]["concepts"] == published_course.concepts.count()
    assert 0.0 <= summary["practice_in_band"] <= 1.0


@pytest.mark.django_db
def test_bad_options_are_a_clear_command_error(published_course):
    with pytest.raises(CommandError, match="no course with slug 'nope'"):
        call_command("simulate_learners", "--ramp", "nope", "--quick", stdout=io.StringIO())
    with pytest.raises(CommandError, match="goes with --ideal-observer"):
        call_command("simulate_learners", "--quick", "--observer-learns", "rate", stdout=io.StringIO())
    with pytest.raises(CommandError, match="can learn rate, start, difficulties, not mood"):
        call_command(
            "simulate_learners",
            "--quick",
            "--ideal-observer",
            "items",
            "--observer-learns",
            "mood",
            stdout=io.StringIO(),
        )
