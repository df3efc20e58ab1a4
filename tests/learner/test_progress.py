"""The learner's progress: concepts mastered over time (recorded when the tracker first
crosses the gate), time studied, the streak of understanding; and the page, only for its
learner."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from learner.models import ConceptState, Response
from learner.progress import (
    Day,
    MasteredConcept,
    duration_words,
    learner_progress,
    mastery_chart,
    studied_time,
    understanding_streak,
)
from tests.tutor.answers import finish_placement, right_answer, wrong_answer
from tutor.study import answer_submit

pytestmark = pytest.mark.django_db


def answer_until_mastered(learner, course, *, limit: int = 40):
    """Right answers (4 s each) until a concept is first counted as mastered."""
    enrollment, step = finish_placement(learner, course)
    for _ in range(limit):
        step = answer_submit(
            user=learner, course=course, step_id=step.pk, answer=right_answer(step), time_taken_ms=4000
        ).next_step
        if ConceptState.objects.filter(enrollment=enrollment, mastered_at__isnull=False).exists():
            return enrollment, step
    raise AssertionError("no concept mastered")


# --- the numbers ---------------------------------------------------------------------------


def test_streak_counts_unaided_right_answers_and_restarts_on_a_wrong_one():
    answers = [
        ("practice", "correct", 0),
        ("practice", "correct", 0),
        ("practice", "correct", 1),  # after a hint: neither adds nor ends
        ("review", "correct", 0),
        ("practice", "incorrect", 0),
        ("new", "correct", 0),
        ("probe", "dont_know", 0),
        ("practice", "correct", 0),
    ]
    streak = understanding_streak(answers)
    assert (streak.current, streak.best) == (1, 3)


def test_placement_answers_take_no_part_in_the_streak():
    answers = [("placement", "correct", 0)] * 5 + [("placement", "incorrect", 0), ("practice", "correct", 0)]
    streak = understanding_streak(answers)
    assert (streak.current, streak.best) == (1, 1)


def test_time_studied_caps_each_answer_and_skips_untimed_ones():
    assert studied_time([30_000, None, 60 * 60 * 1000]) == timedelta(seconds=30) + timedelta(minutes=10)
    assert duration_words(timedelta(minutes=95)) == "1 h 35 min"
    assert duration_words(timedelta(seconds=20)) == "under a minute"
    assert duration_words(timedelta(0)) == "no time"


def test_chart_is_a_step_line_from_the_start_to_today():
    when = datetime(2026, 3, 2, 12, tzinfo=UTC)
    days = [
        Day(
            date(2026, 3, 2),
            answers=5,
            mastered=[MasteredConcept("a", "A", when, True, False)],
            total_mastered=1,
        ),
        Day(date(2026, 3, 4), answers=3, total_mastered=1),
        Day(
            date(2026, 3, 6),
            answers=9,
            mastered=[MasteredConcept(s, s, when, True, False) for s in "bc"],
            total_mastered=3,
        ),
    ]
    chart = mastery_chart(days, start=date(2026, 3, 1), end=date(2026, 3, 9), top=10)
    points = [tuple(map(float, p.split(","))) for p in chart["points"].split()]
    xs = [x for x, _ in points]
    assert xs == sorted(xs)  # left to right
    ys = [y for _, y in points]
    assert ys == sorted(ys, reverse=True)  # never goes down (SVG y grows downwards)
    assert points[0][0] == chart["left"] and points[-1][0] == chart["right"]
    # each day is a slot, its step in the middle: the 9 days from 1 to 9 March
    slot = (chart["right"] - chart["left"]) / 9
    assert [d["x"] for d in chart["dots"]] == [round(chart["left"] + slot * k, 1) for k in (1.5, 5.5)]
    assert [d["label"] for d in chart["dots"]] == ["2 Mar: 1 mastered (1 new)", "6 Mar: 3 mastered (2 new)"]
    assert chart["summary"] == "From 1 Mar to 9 Mar: 3 of 10 concepts mastered"


def test_chart_of_a_single_day_steps_in_its_middle():
    when = datetime(2026, 3, 2, 12, tzinfo=UTC)
    days = [
        Day(
            date(2026, 3, 2),
            answers=5,
            mastered=[MasteredConcept("a", "A", when, True, False)],
            total_mastered=1,
        )
    ]
    chart = mastery_chart(days, start=date(2026, 3, 2), end=date(2026, 3, 2), top=4)
    (dot,) = chart["dots"]
    assert dot["x"] == round((chart["left"] + chart["right"]) / 2, 1)
    assert [t.label for t in chart["x_ticks"]] == ["2 Mar"]


# --- recording the moment of mastery ---------------------------------------------------------


def test_the_first_crossing_of_the_gate_is_recorded_and_kept(learner, published_course):
    enrollment, step = answer_until_mastered(learner, published_course)
    state = ConceptState.objects.get(enrollment=enrollment, mastered_at__isnull=False)
    last = Response.objects.filter(enrollment=enrollment).latest("id")
    assert state.mastered_at == last.created_at or abs(state.mastered_at - last.created_at) < timedelta(
        seconds=1
    )
    first = state.mastered_at
    # later answers, even wrong ones, don't move it
    for _ in range(3):
        if step is None:
            break
        step = answer_submit(
            user=learner, course=published_course, step_id=step.pk, answer=wrong_answer(step)
        ).next_step
    state.refresh_from_db()
    assert state.mastered_at == first


def test_progress_after_mastering_a_concept(learner, published_course):
    enrollment, _ = answer_until_mastered(learner, published_course)
    progress = learner_progress(enrollment=enrollment)
    (mastered,) = progress["mastered"]
    assert mastered.learned_here  # practised before it counted
    assert progress["mastered_now"] == 1 and progress["learned_here"] == 1
    assert progress["n_concepts"] == published_course.concepts.count()
    assert progress["streak"].best >= 1
    n = Response.objects.filter(enrollment=enrollment).count()
    timed = Response.objects.filter(enrollment=enrollment, time_taken_ms__isnull=False).count()
    assert progress["n_answers"] == n and progress["untimed"] == n - timed
    assert sum(d.answers for d in progress["timeline"]) == n
    assert progress["timeline"][-1].total_mastered == 1
    assert progress["chart"]["dots"]


def test_a_concept_known_at_placement_counts_as_already_known(learner, published_course):
    from learner.knowledge import knowledge_apply_placement
    from tutor.study import enrollment_for

    enrollment = enrollment_for(user=learner, course=published_course)
    knowledge_apply_placement(
        enrollment=enrollment,
        marginals={"what-a-fraction-is": 0.999},
        when=datetime(2026, 3, 2, 12, tzinfo=UTC),
    )
    enrollment.save()
    progress = learner_progress(enrollment=enrollment)
    (mastered,) = progress["mastered"]
    assert mastered.slug == "what-a-fraction-is" and not mastered.learned_here
    assert progress["already_known"] == 1


# --- the page ------------------------------------------------------------------------------


def test_progress_page_shows_the_learners_own_progress(client, learner, published_course):
    answer_until_mastered(learner, published_course)
    client.force_login(learner)
    response = client.get(reverse("learner_progress", args=[published_course.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Streak of understanding" in html and "Right answers in a row without a hint" in html
    assert 'role="img" aria-labelledby="mastery-chart-title mastery-chart-desc"' in html
    assert "The chart as a table, day by day" in html
    assert "What a fraction is</a>:" in html and "learned here" in html
    assert " style=" not in html  # the CSP forbids inline styles
    assert reverse("knowledge_map", args=[published_course.slug]) in html


def test_progress_before_any_answer(client, learner, published_course):
    from tutor.study import study_start

    study_start(user=learner, course=published_course)
    client.force_login(learner)
    html = client.get(reverse("learner_progress", args=[published_course.slug])).content.decode()
    assert "Nothing yet: your progress appears here after your first answers." in html


def test_progress_is_private(client, make_user, published_course):
    from tutor.study import study_start

    alice, bob = make_user("learner"), make_user("learner")
    study_start(user=alice, course=published_course)
    url = reverse("learner_progress", args=[published_course.slug])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(bob)
    assert client.get(url).status_code == 404  # not started: nothing of Alice's shows
    client.force_login(make_user("educator"))
    assert client.get(url).status_code == 404
    study_start(user=bob, course=published_course)
    client.force_login(bob)
    html = client.get(url).content.decode()
    assert bob.username in html and alice.username not in html


def test_dashboard_and_map_link_to_progress(client, learner, published_course):
    from tutor.study import study_start

    study_start(user=learner, course=published_course)
    client.force_login(learner)
    url = reverse("learner_progress", args=[published_course.slug])
    assert url in client.get(reverse("learner_dashboard")).content.decode()
    assert url in client.get(reverse("knowledge_map", args=[published_course.slug])).content.decode()


def test_a_concept_taken_over_the_bar_by_its_first_practice_answer_is_learned_here(learner, published_course):
    from django.utils import timezone

    from learner.knowledge import knowledge_apply_placement, knowledge_record_answer
    from learner.models import Step
    from tutor.study import enrollment_for

    enrollment = enrollment_for(user=learner, course=published_course)
    concept = published_course.concepts.get(slug="what-a-fraction-is")
    start = timezone.now() - timedelta(minutes=5)
    # just below the bar after placement (P(mastered) 0.947), over it after one right answer
    knowledge_apply_placement(enrollment=enrollment, marginals={concept.slug: 0.985}, when=start)
    assert ConceptState.objects.get(enrollment=enrollment, concept=concept).mastered_at is None
    item = concept.items.order_by("position").first()
    when = start + timedelta(minutes=1)
    step = Step.objects.create(
        enrollment=enrollment,
        kind="practice",
        concept=concept,
        item=item,
        item_version=item.current_version,
        reason="test",
        answered_at=when,
    )
    Response.objects.create(
        enrollment=enrollment,
        user=learner,
        step=step,
        kind="practice",
        concept=concept,
        item=item,
        item_version=item.current_version,
        outcome="correct",
        correct=True,
    )
    knowledge_record_answer(
        enrollment=enrollment,
        concept_slug=concept.slug,
        item_id=str(item.pk),
        correct=True,
        hints=0,
        when=when,
    )
    state = ConceptState.objects.get(enrollment=enrollment, concept=concept)
    assert state.mastered_at == when  # this very answer took it over the bar
    (mastered,) = learner_progress(enrollment=enrollment)["mastered"]
    assert mastered.learned_here
