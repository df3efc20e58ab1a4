"""The production path measured (models_train.serving_eval, manage.py evaluate_tutor): with a
model that copies its candidates, replies are served and probe; with a random one decoding token
by token, replies are refused and the learner reads the authored text; nothing served reveals
the answer. (Composed decoding, which makes even a random model's replies whole pieces of its
prompt, is tested in test_composing.py.)"""

from pathlib import Path

import pytest

from courses.ramp_files import read_ramp
from models_train.serving import TutorModel
from models_train.serving_eval import concept_cases, evaluate_serving
from tests.tutor.scripted_tutor import ScriptedTutor

from .conftest import tiny_tutor_checkpoint

FIXTURE = Path(__file__).resolve().parents[1] / "courses" / "fixtures" / "good-ramp"


@pytest.fixture(scope="module")
def course():
    return read_ramp(FIXTURE)


@pytest.fixture(scope="module")
def random_tutor(tmp_path_factory, course):
    """A real checkpoint (tokenizer, weights, meta) of an untrained model."""
    texts = [level.text for c in course.concepts for level in c.material]
    return TutorModel(tiny_tutor_checkpoint(tmp_path_factory.mktemp("tutor"), texts))


def test_every_moment_of_a_concept_gets_cases(course):
    concept = course.concept("adding-fractions")
    cases = concept_cases(course, concept, per_item=1, seed=0)
    kinds = {c.moment.kind for c in cases}
    assert kinds == {"mistake", "hint", "explain", "chat"}
    notes = {c.note for c in cases}
    assert "misconception add-across" in notes or "misconception forgot-to-scale-numerator" in notes
    assert "no misconception" in notes and any(n.startswith("hint ") for n in notes)


def test_a_copying_model_is_served_and_probes(course, tmp_path):
    summary = evaluate_serving(
        ScriptedTutor(),
        [course],
        heldout_concepts=["adding-fractions"],
        practice_per_difficulty=0,
        report_path=tmp_path / "report.md",
        log=lambda line: None,
    )
    mistake = summary["mistake"]
    assert mistake["served_share"] >= 0.8 and mistake["probing"] >= 0.7, mistake
    assert summary["hint"]["served_share"] == 1.0
    assert summary["reveal_after_guard"] == 0.0
    report = (tmp_path / "report.md").read_text()
    assert "**The model wrote**" in report and "**The learner read**" in report


def test_a_random_model_is_refused_and_the_authored_text_shown(course, random_tutor, tmp_path):
    # token by token: it writes noise, the guards refuse it
    summary = evaluate_serving(
        TutorModel(random_tutor.path, composed=False),
        [course],
        heldout_concepts=["adding-fractions"],
        practice_per_difficulty=1,
        report_path=tmp_path / "report.md",
        log=lambda line: None,
    )
    for kind in ("mistake", "hint", "explain", "chat"):
        assert summary[kind]["n"] > 0
        assert sum(summary[kind]["refusals"].values()) >= summary[kind]["n"] * (
            1 - summary[kind]["served_share"]
        )
    assert summary["reveal_after_guard"] == 0.0
    practice = summary["practice"]
    assert practice["requests"] >= 1
    assert practice["verified"] in (None, 1.0)  # whatever it chose, the course's code keyed it


def test_the_command_runs_on_a_checkpoint(random_tutor, tmp_path):
    import json
    import os
    from io import StringIO

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
    import django

    django.setup()
    from django.core.management import call_command

    out = StringIO()
    call_command(
        "evaluate_tutor",
        random_tutor.path,
        "--ramps",
        str(FIXTURE),
        "--max-cases",
        "3",
        "--practice",
        "1",
        "--report",
        str(tmp_path / "r.md"),
        stdout=out,
        stderr=StringIO(),
    )
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["serving"]["cases"] >= 3 and (tmp_path / "r.md").exists()
