"""Data migrations of the learner app, run as functions on the real database."""

import importlib

import pytest
from django.apps import apps

from learner.graph_from_db import course_graph_for
from learner.models import ConceptState
from tutor.study import enrollment_for, step_next

pytestmark = pytest.mark.django_db

migration = importlib.import_module("learner.migrations.0003_tracker_beliefs_against_typical_question")


def test_the_answers_share_of_a_belief_is_what_its_variance_lost():
    assert migration.prior_var(None) == 4.0
    assert migration.prior_var(1.0) == pytest.approx(0.64)
    assert migration.prior_var(0.5) == pytest.approx(0.5 * 0.64 + 0.5 * 4.0 + 0.25 * 16.0)
    assert migration.answers_share(0.4, 4.0) == pytest.approx(0.9)
    assert migration.answers_share(0.45, 0.64) == pytest.approx(0.297, abs=1e-3)
    assert migration.answers_share(4.6, 4.0) == 0.0  # still (or again) a prior: it doesn't move


def test_answered_beliefs_move_to_the_typical_question_frame_and_back(learner, published_course):
    graph = course_graph_for(published_course)
    answered, prior_only = [c for c in graph.order if graph.items.get(c)][:2]
    enrollment = enrollment_for(user=learner, course=published_course)
    placed = step_next(enrollment=enrollment).details["marginals"][answered]  # a placement question
    enrollment.refresh_from_db()
    enrollment.mastery_state = {answered: [1.5, 0.4, 100.0, 0], prior_only: [-0.8, 4.2, 100.0, 0]}
    enrollment.save(update_fields=["mastery_state"])
    concept = published_course.concepts.get(slug=answered)
    ConceptState.objects.create(enrollment=enrollment, concept=concept, n_responses=3, n_correct=2)

    assert migration.shift_beliefs(apps, 1.0) == 1
    enrollment.refresh_from_db()
    ref = graph.reference_difficulty[answered]
    assert ref != 0.0  # the test ramp's first concept has easy questions
    share = migration.answers_share(0.4, migration.prior_var(placed))
    assert 0.0 < share < 1.0 and share != pytest.approx(0.9, abs=1e-4)  # placement gave its own prior
    assert enrollment.mastery_state[answered][0] == pytest.approx(1.5 - ref * share)
    assert enrollment.mastery_state[answered][1:] == [0.4, 100.0, 0]
    assert enrollment.mastery_state[prior_only] == [-0.8, 4.2, 100.0, 0]  # still the placement prior

    # the new code then stores [alpha, v, t, spaced, beta] and the rate; backwards reads the
    # marginal back into the old form and moves it back
    alpha = enrollment.mastery_state[answered][0]
    enrollment.mastery_state[answered] = [alpha - 0.5, 0.4 - 0.25 * 0.04, 100.0, 0, 0.5]
    enrollment.mastery_state["~rate"] = [1.0, 0.04]
    enrollment.save(update_fields=["mastery_state"])
    migration.shift_beliefs(apps, -1.0)
    enrollment.refresh_from_db()
    assert "~rate" not in enrollment.mastery_state
    assert enrollment.mastery_state[answered] == pytest.approx([1.5, 0.4, 100.0, 0])


named_state = importlib.import_module("learner.migrations.0005_named_tracker_state")


def test_stored_beliefs_get_named_fields_and_back(learner, published_course):
    enrollment = enrollment_for(user=learner, course=published_course)
    old = {
        "a": [1.5, 0.4, 100.0, 2, 0.5],
        "b": [-0.8, 4.2],  # stored before the clock, the spaced count and the rate existed
        "~rate": [1.2, 0.04],
    }
    enrollment.mastery_state = old
    enrollment.save(update_fields=["mastery_state"])

    assert named_state._convert(apps, named_state.named) == 1
    enrollment.refresh_from_db()
    assert enrollment.mastery_state == {
        "a": {"mean": 1.5, "var": 0.4, "t": 100.0, "spaced": 2, "rate_weight": 0.5},
        "b": {"mean": -0.8, "var": 4.2, "t": None, "spaced": 0, "rate_weight": 0.0},
        "~rate": {"mean": 1.2, "var": 0.04},
    }
    # the tracker reads the named state as the belief the list held
    from learner.mastery import MasteryTracker

    mean, sd = MasteryTracker(state=enrollment.mastery_state).belief("a")
    assert mean == pytest.approx(1.5 + 0.5 * 1.2) and sd**2 == pytest.approx(0.4 + 0.25 * 0.04)
    assert named_state._convert(apps, named_state.named) == 0  # already named: nothing to do

    named_state._convert(apps, named_state.positional)
    enrollment.refresh_from_db()
    assert enrollment.mastery_state == {
        "a": [1.5, 0.4, 100.0, 2, 0.5],
        "b": [-0.8, 4.2, None, 0, 0.0],
        "~rate": [1.2, 0.04],
    }
