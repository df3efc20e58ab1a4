"""Reading ramps for pages. Every educator query is scoped to the courses the user owns."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from courses.graph_layout import GraphLayout, layout_dag
from courses.models import Concept, Course, Item, Prerequisite


def courses_editable_by(*, user):
    if user.is_ramp_admin:
        return Course.objects.all()
    return Course.objects.filter(owners=user)


def courses_published():
    return Course.objects.filter(status=Course.Status.PUBLISHED)


def course_for_editor(*, user, slug: str) -> Course:
    """The course if `user` may edit it; 404 when it doesn't exist, 403 when it isn't theirs."""
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        raise Http404("No such course.")
    if not (user.is_ramp_admin or course.owners.filter(pk=user.pk).exists()):
        raise PermissionDenied("Only this course's educators can edit it.")
    return course


def concept_for_editor(*, course: Course, slug: str) -> Concept:
    concept = course.concepts.filter(slug=slug, retired_at__isnull=True).first()
    if concept is None:
        raise Http404("No such concept in this course.")
    return concept


def item_for_editor(*, concept: Concept, slug: str) -> Item:
    item = concept.items.filter(slug=slug, retired_at__isnull=True).select_related("current_version").first()
    if item is None:
        raise Http404("No such item in this concept.")
    return item


def course_concepts(*, course: Course):
    return course.concepts.filter(retired_at__isnull=True).order_by("position", "id")


def concept_prerequisite_slugs(*, concept: Concept) -> list[str]:
    return list(concept.prerequisite_links.order_by("position").values_list("requires__slug", flat=True))


def course_graph(*, course: Course) -> GraphLayout:
    concepts = list(course_concepts(course=course))
    parents: dict[str, list[str]] = {c.slug: [] for c in concepts}
    for concept_slug, requires_slug in Prerequisite.objects.filter(
        concept__course=course, concept__retired_at__isnull=True, requires__retired_at__isnull=True
    ).values_list("concept__slug", "requires__slug"):
        parents[concept_slug].append(requires_slug)
    return layout_dag([(c.slug, c.title) for c in concepts], parents)


def concept_items(*, concept: Concept):
    return (
        concept.items.filter(retired_at__isnull=True)
        .select_related("current_version")
        .order_by("position", "id")
    )
