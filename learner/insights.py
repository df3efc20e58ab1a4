"""Where learners get stuck: per-concept aggregates of a course's log for its educators.

Aggregated over learners, never one learner's answers: educators see patterns, not people.
"""

from django.db.models import Avg, Count, Q, Sum

from courses.models import Course
from courses.spec_json import item_from_json, misconception_from_json
from learner.models import ConceptState, Enrollment, Response, Step


def _diagnoses(course: Course) -> dict[str, str]:
    diagnoses = {}
    for concept in course.concepts.prefetch_related("misconceptions", "items__current_version"):
        for m in concept.misconceptions.all():
            diagnoses[m.slug] = misconception_from_json(m.spec).diagnosis
        for item in concept.items.all():
            if item.current_version:
                for m in item_from_json(item.current_version.spec).misconceptions:
                    diagnoses.setdefault(m.slug, m.diagnosis)
    return diagnoses


def course_insights(*, course: Course, top_misconceptions: int = 3) -> dict:
    practice = Response.objects.filter(enrollment__course=course).exclude(kind=Step.Kind.PLACEMENT)
    per_concept = {
        row["concept_id"]: row
        for row in practice.values("concept_id").annotate(
            answers=Count("id"),
            wrong=Count("id", filter=~Q(outcome=Response.Outcome.CORRECT)),
            dont_know=Count("id", filter=Q(outcome=Response.Outcome.DONT_KNOW)),
            hints=Sum("hints_used"),
            up_front=Sum("hints_up_front"),
            supported=Count("id", filter=Q(hints_up_front__gt=0)),
            learners=Count("enrollment_id", distinct=True),
        )
    }
    mastery = {
        row["concept_id"]: row
        for row in ConceptState.objects.filter(enrollment__course=course)
        .exclude(source=ConceptState.Source.NONE)
        .values("concept_id")
        .annotate(
            mean=Avg("p_mastery"),
            mastered=Count("id", filter=Q(p_mastery__gte=course.mastery_threshold)),
            n=Count("id"),
        )
    }
    misconceptions: dict[int, list[tuple[str, int]]] = {}
    for row in (
        practice.exclude(misconception="")
        .values("concept_id", "misconception")
        .annotate(n=Count("id"))
        .order_by("-n")
    ):
        misconceptions.setdefault(row["concept_id"], []).append((row["misconception"], row["n"]))
    diagnoses = _diagnoses(course)
    rows = []
    for concept in course.concepts.filter(retired_at__isnull=True).order_by("position", "id"):
        stats = per_concept.get(concept.pk, {})
        answers = stats.get("answers", 0)
        m = mastery.get(concept.pk, {})
        rows.append(
            {
                "concept": concept,
                "answers": answers,
                "learners": stats.get("learners", 0),
                "error_rate": (stats["wrong"] / answers) if answers else None,
                "dont_know": stats.get("dont_know", 0),
                # hints the learners asked for; the ones the policy showed up front are "supported"
                "hints_per_answer": (
                    ((stats.get("hints") or 0) - (stats.get("up_front") or 0)) / answers if answers else None
                ),
                "supported_share": (stats.get("supported", 0) / answers) if answers else None,
                "mean_mastery": m.get("mean"),
                "mastered": m.get("mastered", 0),
                "tracked": m.get("n", 0),
                "misconceptions": [
                    {"slug": slug, "count": n, "diagnosis": diagnoses.get(slug, "")}
                    for slug, n in misconceptions.get(concept.pk, [])[:top_misconceptions]
                ],
            }
        )
    answered = [r for r in rows if r["answers"] >= 5]
    stuck = sorted(answered, key=lambda r: (-(r["error_rate"] or 0), -r["answers"]))[:5]
    return {
        "rows": rows,
        "stuck": stuck,
        "learners": Enrollment.objects.filter(course=course).count(),
        "answers": practice.count(),
    }
