"""Reading a learner's knowledge state for pages. Every query is scoped to one enrollment,
which the caller has loaded for the signed-in learner."""

from courses.graph_layout import GraphLayout
from courses.selectors import course_graph
from learner.models import ConceptState, Enrollment, Response, Step


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


def knowledge_map(*, enrollment: Enrollment, responses_per_concept: int = 5) -> dict:
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
                "responses": recent.get(concept.pk, []),
            }
        )
    graph: GraphLayout = course_graph(course=course)
    by_slug = {row["concept"].slug: row for row in rows}
    for node in graph.nodes:
        row = by_slug[node.key]
        node.css = f"band-{row['band']}"
        node.url = f"#concept-{node.key}"
        node.note = row["band_label"] + (
            f", P(mastered) {row['state'].p_mastery:.2f}" if row["state"] else ""
        )
    decisions = list(
        Step.objects.filter(enrollment=enrollment).select_related("concept").order_by("-id")[:10]
    )
    return {"rows": rows, "graph": graph, "decisions": decisions}
