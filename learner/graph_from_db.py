"""The plain CourseGraph (learner.course_graph) of a course in the database.

Built once per process and course version: every content change touches
Course.updated_at (courses.services / ramp_import), which is the cache key, so the hot
path never rebuilds it.
"""

from functools import lru_cache

from courses.models import ConceptMisconception, Course, Item, Prerequisite
from courses.spec_json import item_from_json
from learner.course_graph import CourseGraph, ItemInfo


def course_graph_for(course: Course) -> CourseGraph:
    return _graph(course.pk, course.updated_at.isoformat())


@lru_cache(maxsize=64)
def _graph(course_id: int, version: str) -> CourseGraph:
    course = Course.objects.get(pk=course_id)
    concepts = list(course.concepts.filter(retired_at__isnull=True).order_by("position", "id"))
    slugs = {c.pk: c.slug for c in concepts}
    prerequisites: dict[str, list[str]] = {c.slug: [] for c in concepts}
    for concept_id, requires_id in (
        Prerequisite.objects.filter(concept__course=course)
        .order_by("concept_id", "position")
        .values_list("concept_id", "requires_id")
    ):
        if concept_id in slugs and requires_id in slugs:
            prerequisites[slugs[concept_id]].append(slugs[requires_id])
    concept_probes: dict[int, set[str]] = {c.pk: set() for c in concepts}
    for concept_id, slug in ConceptMisconception.objects.filter(concept__in=concepts).values_list(
        "concept_id", "slug"
    ):
        concept_probes[concept_id].add(slug)
    items: dict[str, list[ItemInfo]] = {c.slug: [] for c in concepts}
    for item in Item.objects.filter(concept__in=concepts, retired_at__isnull=True).select_related(
        "current_version"
    ):
        spec = item_from_json(item.current_version.spec)
        items[slugs[item.concept_id]].append(
            ItemInfo(
                id=str(item.pk),
                concept=slugs[item.concept_id],
                difficulty=item.difficulty,
                n_choices=len(spec.choices) if spec.type == "multiple_choice" else 0,
                is_template=item.is_template,
                probes=frozenset({m.slug for m in spec.misconceptions} | concept_probes[item.concept_id]),
                n_hints=len(spec.hints),
            )
        )
    return CourseGraph(
        concepts=tuple(c.slug for c in concepts),
        prerequisites={k: tuple(v) for k, v in prerequisites.items()},
        items={k: tuple(v) for k, v in items.items()},
        target_success=course.target_success,
        mastery_threshold=course.mastery_threshold,
    )
