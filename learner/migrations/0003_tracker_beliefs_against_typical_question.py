"""Stored tracker beliefs move to the frame of each concept's typical question.

Since 2026-12-05 the mastery tracker measures proficiency against a concept's typical
question (the median difficulty of its items, ``CourseGraph.reference_difficulty``) instead of
difficulty 0. What answers taught was learnt on the old scale and moves by the concept's
reference; what the prior said (never seen, or placement's "known" / "not known") already had
the new meaning and stays. In the linear-Gaussian picture the answers' share of a belief's
mean is 1 - v / v0 (posterior over prior variance), so the mean moves by the reference times
that share; v0 is the prior placement gave the concept (from the enrollment's last placement
question that reported it) or the never-seen prior. Process noise and forgetting inflate v,
so the share is an underestimate for long-practised concepts: an approximation, not a replay
of the log. A belief that is still a prior (v = v0, e.g. after "I already know this") does not
move. Backwards collapses each belief to the old [mean, var, last_t, spaced] form (the learning
rate integrated out) and moves it back by the same rule.
"""

from statistics import median

from django.db import migrations

# the tracker's priors when this migration was written (learner/mastery.py)
MU0, VAR0 = -1.0, 4.0
KNOWN_MU, KNOWN_VAR = 3.0, 0.64
RATE_KEY = "~rate"


def prior_var(p_known: float | None) -> float:
    if p_known is None:
        return VAR0
    p = min(max(float(p_known), 0.0), 1.0)
    return p * KNOWN_VAR + (1 - p) * VAR0 + p * (1 - p) * (KNOWN_MU - MU0) ** 2


def answers_share(v: float, v0: float) -> float:
    return min(1.0, max(0.0, 1.0 - float(v) / v0)) if v0 > 0 else 0.0


def _references(apps, course_id) -> dict[str, float]:
    Item = apps.get_model("courses", "Item")
    by_concept: dict[str, list[float]] = {}
    rows = Item.objects.filter(
        concept__course_id=course_id, concept__retired_at__isnull=True, retired_at__isnull=True
    ).values_list("concept__slug", "difficulty")
    for slug, difficulty in rows:
        by_concept.setdefault(slug, []).append(difficulty)
    return {slug: float(median(ds)) for slug, ds in by_concept.items()}


def _placement_priors(apps, enrollment) -> dict[str, float]:
    """The last P(mastered) placement reported for each concept (placement questions carry the
    marginals they were chosen from)."""
    Step = apps.get_model("learner", "Step")
    out: dict[str, float] = {}
    for details in (
        Step.objects.filter(enrollment=enrollment, kind="placement")
        .order_by("id")
        .values_list("details", flat=True)
    ):
        for slug, p in ((details or {}).get("marginals") or {}).items():
            out[slug] = p
    return out


def _collapse(state: dict) -> None:
    """New-format beliefs [alpha, v, t, spaced, beta] -> the marginal [mean, var, t, spaced]."""
    rm, rv = state.pop(RATE_KEY, None) or (1.0, 0.09)
    for slug, belief in state.items():
        if isinstance(belief, list) and len(belief) > 4:
            beta = float(belief[4])
            state[slug] = [belief[0] + beta * rm, belief[1] + beta * beta * rv, belief[2], belief[3]]


def shift_beliefs(apps, sign: float) -> int:
    """Move every answered concept's belief mean by ``sign`` x its reference x the answers'
    share of it; returns how many beliefs moved."""
    Enrollment = apps.get_model("learner", "Enrollment")
    ConceptState = apps.get_model("learner", "ConceptState")
    moved = 0
    references: dict[int, dict[str, float]] = {}
    for enrollment in Enrollment.objects.exclude(mastery_state={}).iterator():
        state = enrollment.mastery_state or {}
        if sign < 0:
            _collapse(state)
        refs = references.get(enrollment.course_id)
        if refs is None:
            refs = references[enrollment.course_id] = _references(apps, enrollment.course_id)
        answered = set(
            ConceptState.objects.filter(enrollment=enrollment, n_responses__gt=0).values_list(
                "concept__slug", flat=True
            )
        )
        priors = _placement_priors(apps, enrollment) if answered else {}
        for slug, belief in state.items():
            if slug in answered and slug in refs and isinstance(belief, list) and len(belief) > 1:
                share = answers_share(belief[1], prior_var(priors.get(slug)))
                if share:
                    belief[0] = float(belief[0]) - sign * refs[slug] * share
                    moved += 1
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
