"""Reading ramps for pages. Every educator query is scoped to the courses the user owns."""

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse

from courses.graph_layout import GraphLayout, layout_dag
from courses.models import Concept, Course, Item, Prerequisite
from courses.services import course_checks


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


def course_concepts_for_table(*, course: Course):
    """The concepts with their prerequisites and the number of live items, in a fixed number
    of queries however many concepts there are."""
    return (
        course_concepts(course=course)
        .prefetch_related("prerequisites")
        .annotate(n_items=Count("items", filter=Q(items__retired_at__isnull=True)))
    )


# The ramp checks grade every question's own answer, 40 variants of each template, through
# the checkers (sympy): 3 s for the seed fractions ramp and 20 s for the GPT one on a busy
# two-core machine, over 99% of the course page's time when the page ran them. They depend
# only on the course's content, and every change of content moves Course.updated_at
# (courses.services.course_touch, the import), so their result is kept under that key and
# computed again only after a change. The cache is per process unless CACHES says otherwise.
CHECKS_CACHE_SECONDS = 24 * 3600


def _checks_key(course: Course) -> str:
    return f"ramp-checks:{course.pk}:{course.updated_at.isoformat()}"


def course_checks_known(*, course: Course) -> tuple[list, list] | None:
    """(findings, advice) of the ramp checks on the course as it is now, if they have been
    run since its last change; None if not (nothing is computed)."""
    return cache.get(_checks_key(course))


def course_checks_run(*, course: Course) -> tuple[list, list]:
    """(findings, advice) of the ramp checks on the course as it is now, run if need be."""
    key = _checks_key(course)
    result = cache.get(key)
    if result is None:
        result = course_checks(course=course)
        cache.set(key, result, CHECKS_CACHE_SECONDS)
    return result


def course_graph_for_editor(*, course: Course, findings: list | None) -> GraphLayout:
    """The concept graph with each node linking to its editor and coloured by the checks'
    findings on it (uncoloured while the checks have not run: ``findings`` None)."""
    graph = course_graph(course=course)
    by_concept: dict[str, list] = {}
    for finding in findings or []:
        by_concept.setdefault(finding.concept, []).append(finding)
    for node in graph.nodes:
        node.url = reverse("concept_edit", kwargs={"slug": course.slug, "concept": node.key})
        if findings is None:
            node.css, node.note = "pending", "not checked yet"
            continue
        problems = by_concept.get(node.key, [])
        errors = sum(f.severity == "error" for f in problems)
        warnings = len(problems) - errors
        node.css = "error" if errors else "warning" if warnings else "ok"
        said = [_counted(errors, "problem")] if errors else []
        said += [_counted(warnings, "warning")] if warnings else []
        node.note = " and ".join(said) or "no problems"
    return graph


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


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
