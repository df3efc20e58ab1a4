"""Changing ramps from the educator pages. Each function is atomic and validates first.

Errors the author can fix are `CourseEditError` with a message that says what and where;
nothing is changed when one is raised.
"""

import re

from django.db import transaction
from django.utils import timezone

from courses.characters import unsafe_character
from courses.item_yaml import item_from_yaml
from courses.models import Concept, Course, Item, Material, Prerequisite
from courses.ramp_import import course_to_spec, item_store
from courses.specs import LEVELS, RampFileError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def course_touch(course: Course) -> None:
    """Mark the course's content as changed (the key of every cache built from it)."""
    Course.objects.filter(pk=course.pk).update(updated_at=timezone.now())


class CourseEditError(ValueError):
    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


def _check_slug(slug: str, what: str) -> None:
    if not SLUG.match(slug or "") or len(slug) > 100:
        raise CourseEditError(
            f"The {what} slug {slug!r} should be lowercase letters and digits joined by single hyphens "
            "(for example 'adding-fractions'), at most 100 characters.",
            field="slug",
        )


@transaction.atomic
def course_create(*, user, slug: str, title: str, summary: str = "", language: str = "en") -> Course:
    _check_slug(slug, "course")
    if Course.objects.filter(slug=slug).exists():
        raise CourseEditError(f"A course with the slug {slug!r} already exists.", field="slug")
    if not title.strip():
        raise CourseEditError("A course needs a title.", field="title")
    _check_characters("The title", title, field="title")
    _check_characters("The summary", summary, field="summary")
    course = Course(slug=slug, title=title.strip(), summary=summary.strip(), language=language or "en")
    course.full_clean()
    course.save()
    course.owners.add(user)
    return course


@transaction.atomic
def course_update(
    *,
    course: Course,
    title: str,
    summary: str,
    language: str,
    target_success: float,
    mastery_threshold: float,
) -> Course:
    if not title.strip():
        raise CourseEditError("A course needs a title.", field="title")
    if not 0.5 <= target_success <= 0.98:
        raise CourseEditError("The target success should be between 0.5 and 0.98.", field="target_success")
    if not 0.5 <= mastery_threshold < 1:
        raise CourseEditError(
            "The mastery threshold should be at least 0.5 and below 1.", field="mastery_threshold"
        )
    _check_characters("The title", title, field="title")
    _check_characters("The summary", summary, field="summary")
    course.title, course.summary, course.language = title.strip(), summary.strip(), language or "en"
    course.target_success, course.mastery_threshold = target_success, mastery_threshold
    course.full_clean()
    course.save()
    return course


def course_findings(*, course: Course) -> list:
    """The ramp checks' findings for the course as it is in the database."""
    from courses.ramp_checks import check_ramp

    return check_ramp(course_to_spec(course=course))


def course_checks(*, course: Course) -> tuple[list, list]:
    """(findings, advice) for the course as it is in the database: findings block publishing,
    advice doesn't (see courses.ramp_checks)."""
    from courses.ramp_checks import check_ramp, ramp_advice

    spec = course_to_spec(course=course)
    return check_ramp(spec), ramp_advice(spec)


@transaction.atomic
def course_publish(*, course: Course) -> Course:
    """Publish the course for learners; refused while the ramp checks find problems."""
    findings = course_findings(course=course)
    if findings:
        raise CourseEditError(
            f"The ramp checks found {len(findings)} problem{'s' if len(findings) != 1 else ''}; "
            "fix them before publishing (they are listed on the course page)."
        )
    if not course.concepts.filter(retired_at__isnull=True).exists():
        raise CourseEditError("A course needs at least one concept before it can be published.")
    if course.status != Course.Status.PUBLISHED:
        if course.published_at is not None:
            course.version += 1  # a republished course is a new version of it
        course.status = Course.Status.PUBLISHED
        course.published_at = timezone.now()
        course.save(update_fields=["status", "published_at", "version", "updated_at"])
    return course


@transaction.atomic
def course_unpublish(*, course: Course) -> Course:
    course.status = Course.Status.DRAFT
    course.save(update_fields=["status", "updated_at"])
    return course


@transaction.atomic
def concept_create(*, course: Course, slug: str, title: str) -> Concept:
    _check_slug(slug, "concept")
    if course.concepts.filter(slug=slug).exists():
        raise CourseEditError(f"This course already has a concept {slug!r}.", field="slug")
    if not title.strip():
        raise CourseEditError("A concept needs a title.", field="title")
    position = course.concepts.count()
    concept = Concept.objects.create(course=course, slug=slug, title=title.strip(), position=position)
    course_touch(course)
    return concept


def _ancestors(course: Course, start: Concept) -> set[int]:
    links: dict[int, list[int]] = {}
    for concept_id, requires_id in Prerequisite.objects.filter(concept__course=course).values_list(
        "concept_id", "requires_id"
    ):
        links.setdefault(concept_id, []).append(requires_id)
    seen, stack = set(), [start.pk]
    while stack:
        for parent in links.get(stack.pop(), []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _check_characters(what: str, text: str, *, field: str) -> None:
    """The ramp files' rule (courses/characters.py), so an edit exports to files that import."""
    problem = unsafe_character(text)
    if problem:
        line = text[: problem[0]].count("\n") + 1
        raise CourseEditError(f"{what} {problem[1]} (line {line}).", field=field)


@transaction.atomic
def concept_update(
    *, concept: Concept, title: str, prerequisites: list[str], introduces: list[str], material: dict[str, str]
) -> Concept:
    """Replace the concept's title, prerequisites (slugs), terms and material levels."""
    if not title.strip():
        raise CourseEditError("A concept needs a title.", field="title")
    course = concept.course
    available = {c.slug: c for c in course.concepts.filter(retired_at__isnull=True)}
    chosen = []
    for slug in dict.fromkeys(prerequisites):
        if slug == concept.slug:
            raise CourseEditError("A concept cannot be its own prerequisite.", field="prerequisites")
        if slug not in available:
            raise CourseEditError(f"There is no concept {slug!r} in this course.", field="prerequisites")
        chosen.append(available[slug])
    terms = [" ".join(t.split()) for t in introduces if t.strip()]
    if len(set(t.lower() for t in terms)) != len(terms):
        raise CourseEditError("A term is listed twice.", field="introduces")
    unknown_levels = set(material) - set(LEVELS)
    if unknown_levels:
        raise CourseEditError(f"Unknown material level {sorted(unknown_levels)[0]!r}.", field="material")
    _check_characters("The title", title, field="title")
    for term in terms:
        _check_characters(f"The term {term!r}", term, field="introduces")
    for level, text in material.items():
        _check_characters(f"The {level} material", text, field="material")

    concept.title = title.strip()
    concept.introduces = terms
    concept.save(update_fields=["title", "introduces"])
    Prerequisite.objects.filter(concept=concept).delete()
    Prerequisite.objects.bulk_create(
        Prerequisite(concept=concept, requires=c, position=i) for i, c in enumerate(chosen)
    )
    # Refuse a cycle: the new prerequisites must not depend on this concept.
    if concept.pk in _ancestors(course, concept):
        raise CourseEditError(
            "That would make a cycle: a chosen prerequisite already builds on this concept.",
            field="prerequisites",
        )
    Material.objects.filter(concept=concept).delete()
    Material.objects.bulk_create(
        Material(concept=concept, level=level, text=material[level].strip("\n").rstrip(), position=i)
        for i, level in enumerate(LEVELS)
        if material.get(level, "").strip()
    )
    course_touch(course)
    return concept


@transaction.atomic
def item_save(*, concept: Concept, yaml_text: str, item: Item | None = None) -> tuple[Item, bool]:
    """Create an item (item=None) or update `item` from its YAML block."""
    try:
        spec = item_from_yaml(yaml_text)
    except RampFileError as error:
        raise CourseEditError(str(error).replace("item:", "line ", 1), field="yaml") from None
    if item is None:
        if concept.items.filter(slug=spec.slug).exists():
            raise CourseEditError(f"This concept already has an item {spec.slug!r}.", field="yaml")
        position = concept.items.count()
    else:
        if spec.slug != item.slug:
            raise CourseEditError(
                f"An item's slug never changes (learners' answers point at it): keep {item.slug!r}.",
                field="yaml",
            )
        position = item.position
    result = item_store(concept=concept, spec=spec, position=position, item=item)
    course_touch(concept.course)
    return result


@transaction.atomic
def item_retire(*, item: Item) -> Item:
    item.retired_at = timezone.now()
    item.save(update_fields=["retired_at"])
    course_touch(item.concept.course)
    return item
