"""Stored tracker beliefs move to the frame of each concept's typical question.

Since 2026-12-05 the mastery tracker measures proficiency against a concept's typical
question (the median difficulty of its items, ``CourseGraph.reference_difficulty``) instead of
difficulty 0. A belief built from answers was learnt on the old scale, so its mean moves by the
concept's reference; a belief that is still the placement prior (no answers on the concept)
already means "known" or "not known" and keeps its value. Graph evidence mixed into a
belief was on a typical item in both frames and is not separated out: the move is exact for
what answers taught and an approximation for the rest. Reversible.
"""

from statistics import median

from django.db import migrations


def _references(apps, course_id) -> dict[str, float]:
    Item = apps.get_model("courses", "Item")
    by_concept: dict[str, list[float]] = {}
    rows = Item.objects.filter(
        concept__course_id=course_id, concept__retired_at__isnull=True, retired_at__isnull=True
    ).values_list("concept__slug", "difficulty")
    for slug, difficulty in rows:
        by_concept.setdefault(slug, []).append(difficulty)
    return {slug: float(median(ds)) for slug, ds in by_concept.items()}


def shift_beliefs(apps, sign: float) -> int:
    """Move every answered concept's belief mean by ``sign`` x its reference; returns how
    many beliefs moved."""
    Enrollment = apps.get_model("learner", "Enrollment")
    ConceptState = apps.get_model("learner", "ConceptState")
    moved = 0
    references: dict[int, dict[str, float]] = {}
    for enrollment in Enrollment.objects.exclude(mastery_state={}).iterator():
        state = enrollment.mastery_state or {}
        refs = references.get(enrollment.course_id)
        if refs is None:
            refs = references[enrollment.course_id] = _references(apps, enrollment.course_id)
        answered = set(
            ConceptState.objects.filter(enrollment=enrollment, n_responses__gt=0).values_list("concept__slug", flat=True)
        )
        changed = False
        for slug, belief in state.items():
            if slug in answered and slug in refs and isinstance(belief, list) and belief:
                belief[0] = float(belief[0]) - sign * refs[slug]
                changed = True
                moved += 1
        if changed:
            enrollment.mastery_state = state
            enrollment.save(update_fields=["mastery_state"])
    return moved


def forwards(apps, schema_editor):
    shift_beliefs(apps, 1.0)


def backwards(apps, schema_editor):
    shift_beliefs(apps, -1.0)


class Migration(migrations.Migration):
    dependencies = [
        ("learner", "0002_hints_up_front"),
        ("courses", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
