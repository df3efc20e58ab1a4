"""The study loop as a service: placement first, then policy steps; answers graded, logged
and absorbed in one transaction; refused when they don't belong to the current step."""

import pytest

from learner.models import ConceptState, Enrollment, Response, Step
from tests.tutor.answers import finish_placement, right_answer
from tutor.study import (
    StepMismatch,
    answer_submit,
    current_step,
    enrollment_for,
    hint_reveal,
    step_next,
    study_start,
    variant_for,
)

pytestmark = pytest.mark.django_db


def test_first_visit_starts_with_placement(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)
    assert step.kind == Step.Kind.PLACEMENT
    assert "Placement question 1" in step.reason


def test_placement_then_policy_steps_with_reasons(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)
    kinds = []
    for _ in range(30):
        if step is None:
            break
        kinds.append(step.kind)
        assert step.reason
        outcome = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        )
        assert outcome.response is not None and outcome.response.correct, (step.item.slug, right_answer(step))
        step = outcome.next_step
    enrollment.refresh_from_db()
    assert enrollment.placement_finished_at is not None
    # placement first, then only the policy's steps, until the small ramp is done: every
    # answer was right, so 30 steps are more than enough
    placed = [k == Step.Kind.PLACEMENT for k in kinds]
    first_policy_step = placed.index(False)
    assert first_policy_step >= 1 and not any(placed[first_policy_step:])
    assert step is None
    assert Response.objects.filter(enrollment=enrollment).count() == len(kinds)


def test_answer_for_another_step_is_refused_and_changes_nothing(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)

    def snapshot():
        fresh = Enrollment.objects.get(pk=enrollment.pk)
        return Response.objects.count(), fresh.mastery_state, fresh.placement, fresh.response_count

    before = snapshot()
    with pytest.raises(StepMismatch):
        answer_submit(user=learner, course=published_course, step_id=step.pk + 999, answer="1")
    assert snapshot() == before
    answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    after_one = snapshot()
    assert after_one[0] == before[0] + 1
    with pytest.raises(StepMismatch):  # the same step twice
        answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    assert snapshot() == after_one


def test_unreadable_answer_records_nothing_and_keeps_the_step(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)
    while step.item.type != "numeric":
        step = answer_submit(user=learner, course=published_course, step_id=step.pk, dont_know=True).next_step
    count = Response.objects.count()
    outcome = answer_submit(user=learner, course=published_course, step_id=step.pk, answer="3//4 apples???")
    assert outcome.response is None and outcome.check.readable is False
    assert Response.objects.count() == count
    assert current_step(enrollment=enrollment).pk == step.pk


def test_dont_know_in_placement_is_evidence_of_not_knowing(learner, published_course):
    enrollment, step = finish_placement(learner, published_course)
    states = ConceptState.objects.filter(enrollment=enrollment)
    assert states.exists() and all(s.p_mastery < 0.5 for s in states)
    assert all(s.source == ConceptState.Source.PLACEMENT for s in states)
    # Knowing nothing, the learner starts at the beginning of the ramp.
    assert step.kind == Step.Kind.NEW and step.concept.slug == "what-a-fraction-is"


def test_practice_answer_updates_state_and_review_card(learner, published_course):
    enrollment, step = finish_placement(learner, published_course)
    concept = step.concept
    before = ConceptState.objects.get(enrollment=enrollment, concept=concept).p_correct
    answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    state = ConceptState.objects.get(enrollment=enrollment, concept=concept)
    assert state.n_responses == 1 and state.n_correct == 1
    assert state.p_correct > before
    assert state.review_card and state.review_due_at is not None
    assert state.source == ConceptState.Source.PRACTICE
    # the tracker's belief is stored against the concept's typical question, with the
    # learner's learning rate beside the concepts
    from learner.mastery import RATE_KEY, MasteryTracker

    enrollment.refresh_from_db()
    assert RATE_KEY in enrollment.mastery_state and concept.slug in enrollment.mastery_state
    tracker = MasteryTracker(state=enrollment.mastery_state)
    assert state.sd == pytest.approx(tracker.belief(concept.slug, state.last_response_at.timestamp())[1])


def test_misconception_answer_triggers_a_probe(learner, published_course):
    enrollment, step = finish_placement(learner, published_course)
    # Walk until an item with a misconception we can trigger.
    for _ in range(40):
        variant = variant_for(step)
        keys = [k for k in variant.key.misconceptions if k.kind == "value"]
        if keys:
            from courses.expressions import format_value

            outcome = answer_submit(
                user=learner, course=published_course, step_id=step.pk, answer=format_value(keys[0].target)
            )
            assert outcome.response.misconception == keys[0].slug
            assert outcome.misconception is not None and outcome.misconception.probe
            enrollment.refresh_from_db()
            assert outcome.next_step.kind == Step.Kind.PROBE
            assert enrollment.pending_probe["misconception"] == keys[0].slug
            return
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
    pytest.fail("no item with a value misconception was served")


def test_hints_are_counted_on_the_response(learner, published_course):
    enrollment, step = finish_placement(learner, published_course)
    while not variant_for(step).hints:
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
    hint_reveal(user=learner, course=published_course, step_id=step.pk)
    outcome = answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    assert outcome.response.hints_used == 1


def test_the_response_log_is_append_only(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)
    response = answer_submit(
        user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
    ).response
    response.answer = "edited"
    with pytest.raises(ValueError):
        response.save()
    with pytest.raises(ValueError):
        response.delete()


def _scaffolded_step(learner, course) -> Step:
    """After placement, the policy's step for a learner whose belief sits just under each
    concept's easiest question: every question is below the band, so one comes with hints."""
    from learner.graph_from_db import course_graph_for

    enrollment, step = finish_placement(learner, course)
    step.delete()  # decide again from the state set below
    enrollment.refresh_from_db()
    graph = course_graph_for(course)
    enrollment.mastery_state = {
        c: {
            "mean": min(graph.relative_difficulty(it) for it in graph.items[c]) - 0.9,
            "var": 0.05,
            "t": None,
            "spaced": 0,
            "rate_weight": 0.0,
        }
        for c in graph.order
        if graph.items.get(c)
    }
    enrollment.save(update_fields=["mastery_state"])
    return step_next(enrollment=enrollment)


def test_a_question_still_too_hard_is_served_with_its_first_hints(client, learner, published_course):
    from django.urls import reverse

    step = _scaffolded_step(learner, published_course)
    assert step.kind in (Step.Kind.NEW, Step.Kind.PRACTICE)
    assert 1 <= step.hints_shown <= len(variant_for(step).hints)
    assert step.hints_up_front == step.hints_shown
    assert "comes with its first" in step.reason
    client.force_login(learner)
    html = client.get(reverse("study", args=[published_course.slug])).content.decode()
    assert 'class="hints"' in html and "This one is a stretch for you right now" in html
    outcome = answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    assert outcome.response.hints_used == outcome.response.hints_up_front == step.hints_shown
    # the knowledge map says which answers came after hints
    n = step.hints_shown
    html = client.get(reverse("knowledge_map", args=[published_course.slug])).content.decode()
    assert f"after {n} hint{'s' if n > 1 else ''}" in html
    # a hint asked for on top is counted among all hints, not among those shown up front
    step = outcome.next_step
    while len(variant_for(step).hints) <= step.hints_shown:
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
    up_front = step.hints_up_front
    hint_reveal(user=learner, course=published_course, step_id=step.pk)
    response = answer_submit(
        user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
    ).response
    assert (response.hints_used, response.hints_up_front) == (up_front + 1, up_front)


def test_insights_count_hints_asked_for_apart_from_hints_shown_up_front(learner, published_course):
    from learner.insights import course_insights

    step = _scaffolded_step(learner, published_course)
    assert step.hints_up_front >= 1
    concept = step.concept
    answer_submit(user=learner, course=published_course, step_id=step.pk, answer=right_answer(step))
    row = next(r for r in course_insights(course=published_course)["rows"] if r["concept"] == concept)
    assert row["answers"] == 1 and row["supported_share"] == 1.0
    assert row["hints_per_answer"] == 0.0  # the learner asked for none


def test_policy_steps_choose_items_by_the_trackers_belief_and_record_it(learner, published_course):
    from learner.graph_from_db import course_graph_for
    from learner.knowledge import tracker_for

    enrollment = enrollment_for(user=learner, course=published_course)
    step = step_next(enrollment=enrollment)
    for _ in range(40):
        if step is None or step.kind in (Step.Kind.NEW, Step.Kind.PRACTICE):
            break
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
    assert step is not None and step.kind in (Step.Kind.NEW, Step.Kind.PRACTICE)
    enrollment.refresh_from_db()
    graph = course_graph_for(published_course)
    tracker = tracker_for(enrollment)
    rows = step.details["items"]
    assert rows and all("in_band" in r for r in rows)
    chosen = next(r for r in rows if r["item"] == str(step.item_id) and not r.get("hints"))
    item = graph.item_by_id[str(step.item_id)]
    t = step.created_at.timestamp()
    want = tracker.in_band(item.concept, graph.relative_difficulty(item), (0.6, 0.9), item.guess_rate, t)
    assert chosen["in_band"] == pytest.approx(want, abs=2e-3)
    if not step.hints_up_front:  # the chosen item is the likeliest in the band of those considered
        assert chosen["in_band"] >= max(r["in_band"] for r in rows if not r.get("hints")) - 1e-9


def test_right_answers_on_a_new_concept_raise_its_mastery_steadily(learner, published_course):
    """Right answers count: four on a concept after a placement that found nothing known move
    P(mastered) up each time, well past its starting point."""
    enrollment, step = finish_placement(learner, published_course)
    concept = step.concept
    seen = [ConceptState.objects.get(enrollment=enrollment, concept=concept).p_mastery]
    for _ in range(4):
        assert step.concept == concept
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=right_answer(step)
        ).next_step
        seen.append(ConceptState.objects.get(enrollment=enrollment, concept=concept).p_mastery)
        if step is None or step.concept != concept:
            break
    assert all(b > a for a, b in zip(seen, seen[1:])), seen
    assert seen[-1] > seen[0] + 0.3, seen


def test_a_mix_up_shown_in_placement_is_probed_once_placement_ends(learner, published_course):
    import random

    from models_train.factory.answers import answer_text, misconception_answer

    step = study_start(user=learner, course=published_course)
    matched = None
    while step is not None and step.kind == Step.Kind.PLACEMENT:
        key = variant_for(step).key
        wrong = next(
            (w for m in key.misconceptions if (w := misconception_answer(key, m.slug, random.Random(0)))),
            None,
        )
        if wrong is not None and matched is None:
            answer = "\n".join(wrong) if step.item.type == "ordering" else answer_text(wrong)
            outcome = answer_submit(user=learner, course=published_course, step_id=step.pk, answer=answer)
            matched = outcome.check.misconception
        else:
            outcome = answer_submit(user=learner, course=published_course, step_id=step.pk, dont_know=True)
        step = outcome.next_step
    assert matched is not None, "no placement question of the test ramp could show a mix-up"
    assert step.kind == Step.Kind.PROBE and step.details["misconception"] == matched
