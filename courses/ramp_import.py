"""Copying a ramp (a CourseSpec read from files) into the database, and back out.

`course_import` is atomic: it either applies the whole ramp or changes nothing. Concepts
and items are matched by slug, so their ids (and the learners' history that points at them)
survive re-imports; an item whose spec changed gets a new version; concepts and items that
left the files are retired, not deleted.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from courses.models import Concept, ConceptMisconception, Course, Item, ItemVersion, Material, Prerequisite
from courses.ramp_checks import unknown_prerequisites
from courses.spec_json import item_from_json, item_to_json, misconception_from_json, misconception_to_json
from courses.specs import ConceptSpec, CourseSpec, ItemSpec, MaterialLevel, RampFileError


@dataclass
class ImportReport:
    course: Course
    created: bool
    concepts_added: list[str] = field(default_factory=list)
    concepts_retired: list[str] = field(default_factory=list)
    items_added: list[str] = field(default_factory=list)
    items_changed: list[str] = field(default_factory=list)
    items_retired: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "Created" if self.created else "Updated"
        parts = [
            f"{len(self.concepts_added)} concepts added",
            f"{len(self.items_added)} items added",
            f"{len(self.items_changed)} items changed",
        ]
        if self.concepts_retired or self.items_retired:
            parts.append(f"{len(self.concepts_retired)} concepts and {len(self.items_retired)} items retired")
        return f"{verb} “{self.course.title}” ({self.course.slug}): " + ", ".join(parts) + "."


def user_can_edit_course(*, user, course: Course) -> bool:
    if not user.is_authenticated or not user.is_educator:
        return False
    return user.is_ramp_admin or course.owners.filter(pk=user.pk).exists()


@transaction.atomic
def course_import(*, spec: CourseSpec, user) -> ImportReport:
    """Create or update the course `spec.slug` from `spec`; the user must be allowed to edit it.
    A ramp that can't be stored (a prerequisite that is no concept of it) is a RampFileError
    naming file and line, before anything changes."""
    unknown = unknown_prerequisites(spec)
    if unknown:
        problems = [(f.file, f.line, f"concept {f.concept}: {f.message}") for f in unknown]
        raise RampFileError(*problems[0], problems=problems)
    course = Course.objects.select_for_update().filter(slug=spec.slug).first()
    created = course is None
    if created:
        if not (user.is_authenticated and user.is_educator):
            raise PermissionDenied("Only educators can import ramps.")
        course = Course(slug=spec.slug)
    elif not user_can_edit_course(user=user, course=course):
        raise PermissionDenied(f"The course {spec.slug!r} belongs to other educators.")
    course.title = spec.title
    course.summary = spec.summary
    course.language = spec.language
    course.version = spec.version
    course.target_success = spec.target_success
    course.mastery_threshold = spec.mastery_threshold
    course.full_clean()
    course.save()
    if created:
        course.owners.add(user)
    report = ImportReport(course=course, created=created)

    existing = {c.slug: c for c in course.concepts.all()}
    by_slug: dict[str, Concept] = {}
    for position, concept_spec in enumerate(spec.concepts):
        concept = existing.get(concept_spec.slug)
        if concept is None:
            concept = Concept(course=course, slug=concept_spec.slug)
            report.concepts_added.append(concept_spec.slug)
        concept.title = concept_spec.title
        concept.position = position
        concept.introduces = list(concept_spec.introduces)
        concept.retired_at = None
        concept.full_clean(exclude=["course"])
        concept.save()
        by_slug[concept.slug] = concept
        _replace_material(concept, concept_spec)
        _replace_misconceptions(concept, concept_spec)
        _sync_items(concept, concept_spec, report)
    for slug, concept in existing.items():
        if slug not in by_slug and concept.retired_at is None:
            concept.retired_at = timezone.now()
            concept.save(update_fields=["retired_at"])
            concept.items.filter(retired_at__isnull=True).update(retired_at=timezone.now())
            report.concepts_retired.append(slug)

    Prerequisite.objects.filter(concept__course=course).delete()
    Prerequisite.objects.bulk_create(
        Prerequisite(concept=by_slug[c.slug], requires=by_slug[req], position=i)
        for c in spec.concepts
        for i, req in enumerate(c.prerequisites)
    )
    return report


def _replace_material(concept: Concept, spec: ConceptSpec) -> None:
    concept.material.all().delete()
    Material.objects.bulk_create(
        Material(concept=concept, level=level.name, text=level.text, position=i)
        for i, level in enumerate(spec.material)
    )


def _replace_misconceptions(concept: Concept, spec: ConceptSpec) -> None:
    concept.misconceptions.all().delete()
    ConceptMisconception.objects.bulk_create(
        ConceptMisconception(concept=concept, slug=m.slug, spec=misconception_to_json(m), position=i)
        for i, m in enumerate(spec.misconceptions)
    )


def _sync_items(concept: Concept, spec: ConceptSpec, report: ImportReport) -> None:
    existing = {item.slug: item for item in concept.items.select_related("current_version")}
    seen = set()
    for position, item_spec in enumerate(spec.items):
        seen.add(item_spec.slug)
        item = existing.get(item_spec.slug)
        label = f"{concept.slug}/{item_spec.slug}"
        was_new = item is None
        item, changed = item_store(concept=concept, spec=item_spec, position=position, item=item)
        if was_new:
            report.items_added.append(label)
        elif changed:
            report.items_changed.append(label)
    for slug, item in existing.items():
        if slug not in seen and item.retired_at is None:
            item.retired_at = timezone.now()
            item.save(update_fields=["retired_at"])
            report.items_retired.append(f"{concept.slug}/{slug}")


def item_store(
    *, concept: Concept, spec: ItemSpec, position: int, item: Item | None = None
) -> tuple[Item, bool]:
    """Create or update one item from its spec; a changed spec becomes a new version.

    Returns (item, changed). Callers hold the transaction.
    """
    data = item_to_json(spec)
    if item is None:
        item = Item(concept=concept, slug=spec.slug, difficulty=spec.difficulty)
    elif item.difficulty_prior != spec.difficulty:
        # A new prior from the author restarts calibration from it.
        item.difficulty = spec.difficulty
    changed = item.current_version is None or item.current_version.spec != data
    item.position = position
    item.type = spec.type
    item.difficulty_prior = spec.difficulty
    item.is_template = spec.is_template
    item.retired_at = None
    item.save()
    if changed:
        number = (item.current_version.number + 1) if item.current_version else 1
        item.current_version = ItemVersion.objects.create(item=item, number=number, spec=data)
        item.save(update_fields=["current_version"])
    return item, changed


def course_to_spec(*, course: Course) -> CourseSpec:
    """The course as it would be written to ramp files (retired parts left out)."""
    concepts = (
        course.concepts.filter(retired_at__isnull=True)
        .prefetch_related("material", "misconceptions", "prerequisite_links__requires")
        .order_by("position", "id")
    )
    concept_specs = []
    for concept in concepts:
        items = (
            concept.items.filter(retired_at__isnull=True)
            .select_related("current_version")
            .order_by("position", "id")
        )
        concept_specs.append(
            ConceptSpec(
                slug=concept.slug,
                title=concept.title,
                prerequisites=tuple(link.requires.slug for link in concept.prerequisite_links.all()),
                introduces=tuple(concept.introduces),
                misconceptions=tuple(misconception_from_json(m.spec) for m in concept.misconceptions.all()),
                items=tuple(item_from_json(item.current_version.spec) for item in items),
                material=tuple(MaterialLevel(name=m.level, text=m.text) for m in concept.material.all()),
                file=f"concepts/{concept.slug}.md",
            )
        )
    return CourseSpec(
        slug=course.slug,
        title=course.title,
        summary=course.summary,
        language=course.language,
        version=course.version,
        target_success=course.target_success,
        mastery_threshold=course.mastery_threshold,
        concepts=tuple(concept_specs),
    )
