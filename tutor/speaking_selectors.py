"""Reading what the tutor said, for the people who look after it: admins see per model version
how often its words were shown, why not, and how learners rated them; educators see the
questions learners asked about each concept of their course, without names and only from
learners who chose to share them."""

from collections import Counter, defaultdict

from django.db.models import Count

from courses.models import Course
from tutor.models import TutorMessage


def version_voice(*, limit: int = 8) -> list[dict]:
    """Per model version (newest first): messages, the share written by the model, refusals by
    reason, ratings. Messages from before any version was active count under None."""
    rows = (
        TutorMessage.objects.filter(status=TutorMessage.Status.DONE)
        .values("model_version_id", "model_version__name", "source", "refusal", "rating")
        .annotate(n=Count("id"))
    )
    by_version: dict = defaultdict(
        lambda: {"messages": 0, "model": 0, "refusals": Counter(), "ratings": Counter()}
    )
    names = {}
    for row in rows:
        key = row["model_version_id"]
        names[key] = row["model_version__name"] or "no version"
        entry = by_version[key]
        entry["messages"] += row["n"]
        if row["source"] == TutorMessage.Source.MODEL:
            entry["model"] += row["n"]
        if row["refusal"]:
            entry["refusals"][row["refusal"]] += row["n"]
        if row["rating"]:
            entry["ratings"][row["rating"]] += row["n"]
    out = []
    for key in sorted(by_version, key=lambda k: -(k or 0))[:limit]:
        entry = by_version[key]
        out.append(
            {
                "version": names[key],
                "messages": entry["messages"],
                "model_share": entry["model"] / entry["messages"] if entry["messages"] else None,
                "refusals": entry["refusals"].most_common(),
                "ratings": {r: entry["ratings"].get(r, 0) for r in TutorMessage.Rating.values},
                "rated": sum(entry["ratings"].values()),
            }
        )
    return out


def course_questions(*, course: Course, per_concept: int = 20) -> list[dict]:
    """Per concept of ``course`` (ramp order), the latest questions its learners asked the
    tutor, anonymised, from learners who share their questions (their choice, read now)."""
    shared = (
        TutorMessage.objects.filter(
            moment=TutorMessage.Moment.CHAT,
            enrollment__course=course,
            enrollment__user__shares_questions=True,
        )
        .exclude(request="")
        .order_by("-created_at")
        .values("concept_id", "request", "created_at", "rating")
    )
    by_concept: dict[int, list[dict]] = defaultdict(list)
    for row in shared:
        if len(by_concept[row["concept_id"]]) < per_concept:
            by_concept[row["concept_id"]].append(row)
    concepts = course.concepts.filter(retired_at__isnull=True).order_by("position", "id")
    return [{"concept": c, "questions": by_concept.get(c.pk, [])} for c in concepts]
