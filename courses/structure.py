"""What the study loop reads of a course on every answer, read once per process and version.

Concept ids and titles by slug, and each concept's misconceptions parsed: the answer path
used to query them on every request. Every content change touches ``Course.updated_at``
(``courses.services.course_touch``, the import, publishing), which is the cache key, as for
the course graph (``learner.graph_from_db``).
"""

from dataclasses import dataclass
from functools import lru_cache

from courses.models import ConceptMisconception, Course
from courses.spec_json import misconception_from_json
from courses.specs import MisconceptionSpec


@dataclass(frozen=True)
class CourseStructure:
    concept_ids: dict[str, int]  # every concept, retired ones too (old answers point at them)
    concept_slugs: dict[int, str]
    titles: dict[str, str]
    misconceptions: dict[int, tuple[MisconceptionSpec, ...]]  # concept id -> the concept's own

    def concept_misconceptions(self, concept_id: int) -> tuple[MisconceptionSpec, ...]:
        return self.misconceptions.get(concept_id, ())


def course_structure(course: Course) -> CourseStructure:
    return _structure(course.pk, course.updated_at.isoformat())


@lru_cache(maxsize=64)
def _structure(course_id: int, version: str) -> CourseStructure:
    concepts = list(Course.objects.get(pk=course_id).concepts.values_list("id", "slug", "title"))
    misconceptions: dict[int, list[MisconceptionSpec]] = {}
    for concept_id, spec in (
        ConceptMisconception.objects.filter(concept__course_id=course_id)
        .order_by("concept_id", "position", "id")
        .values_list("concept_id", "spec")
    ):
        misconceptions.setdefault(concept_id, []).append(misconception_from_json(spec))
    return CourseStructure(
        concept_ids={slug: pk for pk, slug, _ in concepts},
        concept_slugs={pk: slug for pk, slug, _ in concepts},
        titles={slug: title for _, slug, title in concepts},
        misconceptions={k: tuple(v) for k, v in misconceptions.items()},
    )
