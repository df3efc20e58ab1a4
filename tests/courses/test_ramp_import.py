"""Ramps into the database and back: lossless, atomic, ids kept, items versioned."""

import shutil
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from courses.models import Concept, Course, Item, ItemVersion
from courses.ramp_files import ramp_to_files, read_ramp, write_ramp
from courses.ramp_import import course_import, course_to_spec

FIXTURE = Path(__file__).parent / "fixtures" / "good-ramp"
pytestmark = pytest.mark.django_db


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_export_import_export_is_identical(tmp_path, educator):
    course_import(spec=read_ramp(FIXTURE), user=educator)
    first = tmp_path / "first"
    second = tmp_path / "second"
    call_command("export_ramp", "tiny-fractions", str(first))
    Course.objects.all().delete()
    call_command("import_ramp", str(first), "--owner", educator.username)
    call_command("export_ramp", "tiny-fractions", str(second))
    assert snapshot(first) == snapshot(second)
    assert read_ramp(first) == read_ramp(FIXTURE)


def test_database_keeps_everything_the_files_say(educator):
    spec = read_ramp(FIXTURE)
    course_import(spec=spec, user=educator)
    course = Course.objects.get(slug="tiny-fractions")
    assert course_to_spec(course=course) == spec
    assert list(course.owners.all()) == [educator]


def test_reimport_updates_in_place_keeps_ids_and_versions_changed_items(tmp_path, educator):
    course_import(spec=read_ramp(FIXTURE), user=educator)
    ids = dict(Item.objects.values_list("slug", "id"))
    concept_ids = dict(Concept.objects.values_list("slug", "id"))
    ramp = tmp_path / "ramp"
    shutil.copytree(FIXTURE, ramp)
    concept_file = next((ramp / "concepts").glob("adding-fractions.md"))
    text = concept_file.read_text()
    item = read_ramp(ramp).concept("adding-fractions").items[0]
    assert "? Give a fraction." in text
    concept_file.write_text(text.replace("? Give a fraction.", "? Give a fraction in lowest terms.", 1))
    report = course_import(spec=read_ramp(ramp), user=educator)
    assert report.items_changed == [f"adding-fractions/{item.slug}"]
    assert report.items_added == [] and report.concepts_added == []
    assert dict(Item.objects.values_list("slug", "id")) == ids
    assert dict(Concept.objects.values_list("slug", "id")) == concept_ids
    changed = Item.objects.get(slug=item.slug, concept__slug="adding-fractions")
    assert changed.current_version.number == 2
    assert ItemVersion.objects.filter(item=changed).count() == 2  # the old version stays for the history


def test_removed_concept_is_retired_not_deleted(educator):
    spec = read_ramp(FIXTURE)
    course_import(spec=spec, user=educator)
    last = spec.concepts[-1]
    smaller = type(spec)(
        **{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "concepts": spec.concepts[:-1]}
    )
    report = course_import(spec=smaller, user=educator)
    assert report.concepts_retired == [last.slug]
    concept = Concept.objects.get(slug=last.slug)
    assert concept.retired_at is not None
    assert all(item.retired_at is not None for item in concept.items.all())
    assert last.slug not in [c.slug for c in course_to_spec(course=concept.course).concepts]


def test_another_educator_cannot_overwrite_a_course(make_user, educator):
    course_import(spec=read_ramp(FIXTURE), user=educator)
    with pytest.raises(PermissionDenied):
        course_import(spec=read_ramp(FIXTURE), user=make_user("educator"))


def test_learner_cannot_import(learner):
    with pytest.raises(PermissionDenied):
        course_import(spec=read_ramp(FIXTURE), user=learner)


def test_bad_ramp_changes_nothing(tmp_path, educator):
    course_import(spec=read_ramp(FIXTURE), user=educator)
    before = (
        Course.objects.count(),
        Concept.objects.count(),
        Item.objects.count(),
        ItemVersion.objects.count(),
    )
    ramp = tmp_path / "broken"
    shutil.copytree(FIXTURE, ramp)
    (ramp / "concepts" / "adding-fractions.md").write_text(
        "---\nslug: adding-fractions\ntitle: [unclosed\n---\n"
    )
    with pytest.raises(CommandError) as error:
        call_command("import_ramp", str(ramp), "--owner", educator.username)
    assert "concepts/adding-fractions.md:" in str(error.value)
    assert (
        Course.objects.count(),
        Concept.objects.count(),
        Item.objects.count(),
        ItemVersion.objects.count(),
    ) == before


def test_a_missing_prerequisite_is_named_with_file_and_line_and_changes_nothing(tmp_path, educator):
    course_import(spec=read_ramp(FIXTURE), user=educator)
    before = (Concept.objects.count(), ItemVersion.objects.count())
    ramp = tmp_path / "missing"
    shutil.copytree(FIXTURE, ramp)
    path = ramp / "concepts" / "adding-fractions.md"
    path.write_text(path.read_text().replace("prerequisites: [what-a-fraction-is]", "prerequisites: [nope]"))
    with pytest.raises(CommandError) as error:
        call_command("import_ramp", str(ramp), "--owner", educator.username)
    # ramp-relative, as check_ramp names it; no traceback (it was a KeyError)
    assert (
        "concepts/adding-fractions.md:4: concept adding-fractions: prerequisite nope is not a concept "
        "of this course" in str(error.value)
    )
    assert (Concept.objects.count(), ItemVersion.objects.count()) == before


def test_a_failure_midway_rolls_back_everything(monkeypatch, educator):
    """Even an error after half the concepts were written leaves the database as it was."""
    import courses.ramp_import as ramp_import

    calls = {"n": 0}
    original = ramp_import._sync_items

    def failing(concept, spec, report):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(concept, spec, report)

    monkeypatch.setattr(ramp_import, "_sync_items", failing)
    with pytest.raises(RuntimeError):
        course_import(spec=read_ramp(FIXTURE), user=educator)
    assert Course.objects.count() == 0 and Concept.objects.count() == 0 and Item.objects.count() == 0


def test_seed_ramp_files_write_back_identically(tmp_path):
    """The seed ramps are in canonical form, so an export diff only ever shows real edits."""
    root = Path(__file__).resolve().parents[2] / "ramps"
    for ramp in sorted(p for p in root.iterdir() if (p / "course.yaml").exists()):
        spec = read_ramp(ramp)
        out = tmp_path / ramp.name
        write_ramp(spec, out)
        assert snapshot(out) == {k: v for k, v in ramp_to_files(spec).items()} | {}
        assert snapshot(out) == snapshot(ramp), f"{ramp.name} is not in canonical form"
