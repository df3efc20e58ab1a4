"""Reading a learner's knowledge state for pages. Every query is scoped to one enrollment,
which the caller has loaded for the signed-in learner.

The map speaks in words ("nearly there", "we're still unsure"); the tracker's numbers stay
one click away for the curious, explained where they are shown.
"""

from datetime import datetime

from django.http import Http404
from django.utils import timezone

from courses.graph_layout import GraphLayout
from courses.selectors import course_graph, courses_published
from learner.models import ConceptState, Enrollment, Response, Step


def enrollment_of_learner_or_404(*, user, slug: str) -> Enrollment:
    """The signed-in learner's enrollment in the published course ``slug``; 404 for anyone
    else's (another learner's map, progress or chat does not exist for them)."""
    enrollment = (
        Enrollment.objects.select_related("course")
        .filter(user=user, course__slug=slug, course__in=courses_published())
        .first()
    )
    if enrollment is None:
        raise Http404("You have not started this course yet.")
    return enrollment


def mastery_band(p: float, threshold: float) -> str:
    if p >= threshold:
        return "mastered"
    if p >= 0.5:
        return "nearly"
    if p >= 0.2:
        return "learning"
    return "not-yet"


BAND_LABELS = {
    "mastered": "mastered",
    "nearly": "nearly there",
    "learning": "learning",
    "not-yet": "not yet",
    "unknown": "no evidence yet",
}

# The belief's sd (logits of proficiency) from which the map says Ramp is unsure: a concept
# never seen starts at 2.0 and a placement's guess near it; a run of right answers keeps it
# about 1.2-1.5 (each says little), a mix of right and wrong brings it to about 1.0, where
# "learning" is a finding rather than a guess. Mastered and nearly-there have sentences of
# their own.
UNSURE_SD = 1.2


def state_in_words(state: ConceptState | None, band: str, *, now: datetime) -> str:
    """One sentence for the learner about what Ramp believes and how sure it is."""
    if band == "unknown":
        return "Ramp hasn't seen an answer on this yet."
    if band == "mastered":
        if state.review_due_at is not None and state.review_due_at <= now:
            return "You've shown you know this; a quick review is due to keep it fresh."
        return "You've shown you know this."
    unsure = state.sd >= UNSURE_SD
    guessed = state.n_responses == 0  # only placement or related concepts so far
    if band == "nearly":
        return "Nearly: a few more right answers will tell."
    if unsure:
        if guessed:
            return "A guess from your other answers: we're still unsure, a few answers here will tell."
        return "We're still unsure: a few more answers will tell."
    if band == "learning":
        return "You're on your way: practice will get you there."
    if guessed:
        return "From your other answers this looks new to you."
    return "Not yet: Ramp will start from what this builds on."


def knowledge_map(
    *, enrollment: Enrollment, responses_per_concept: int = 5, now: datetime | None = None
) -> dict:
    now = now or timezone.now()
    course = enrollment.course
    states = {s.concept_id: s for s in ConceptState.objects.filter(enrollment=enrollment)}
    recent: dict[int, list[Response]] = {}
    for response in (
        Response.objects.filter(enrollment=enrollment).select_related("item").order_by("-id")[:2000]
    ):
        bucket = recent.setdefault(response.concept_id, [])
        if len(bucket) < responses_per_concept:
            bucket.append(response)
    rows = []
    for concept in course.concepts.filter(retired_at__isnull=True).order_by("position", "id"):
        state = states.get(concept.pk)
        has_evidence = state is not None and state.source != ConceptState.Source.NONE
        band = mastery_band(state.p_mastery, course.mastery_threshold) if has_evidence else "unknown"
        rows.append(
            {
                "concept": concept,
                "state": state,
                "band": band,
                "band_label": BAND_LABELS[band],
                "in_words": state_in_words(state, band, now=now),
                "has_evidence": has_evidence,
                "responses": recent.get(concept.pk, []),
            }
        )
    graph: GraphLayout = course_graph(course=course)
    by_slug = {row["concept"].slug: row for row in rows}
    for node in graph.nodes:
        row = by_slug[node.key]
        node.css = f"band-{row['band']}"
        node.url = f"#concept-{node.key}"
        node.note = row["band_label"]
    decisions = list(
        Step.objects.filter(enrollment=enrollment).select_related("concept").order_by("-id")[:10]
    )
    counts = {band.replace("-", "_"): sum(1 for row in rows if row["band"] == band) for band in BAND_LABELS}
    return {"rows": rows, "graph": graph, "decisions": decisions, "band_counts": counts}
