"""Data migrations of the learner app, run as functions on the real database."""

import importlib

import pytest
from django.apps import apps

from learner.graph_from_db import course_graph_for
from learner.models import ConceptState
from learner.study import enrollment_for

pytestmark = pytest.mark.django_db


def test_answered_beliefs_move_to_the_typical_question_frame_and_back(learner, published_course):
    migration = importlib.import_module("learner.migrations.0003_tracker_beliefs_against_typical_question")
    graph = course_graph_for(published_course)
    answered, prior_only = [c for c in graph.order if graph.items.get(c)][:2]
    enrollment = enrollment_for(user=learner, course=published_course)
    enrollment.mastery_state = {answered: [1.5, 0.4, 100.0, 0], prior_only: [-0.8, 4.2, 100.0, 0]}
    enrollment.save(update_fields=["mastery_state"])
    concept = published_course.concepts.get(slug=answered)
    ConceptState.objects.create(enrollment=enrollment, concept=concept, n_responses=3, n_correct=2)

    assert migration.shift_beliefs(apps, 1.0) == 1
    enrollment.refresh_from_db()
    ref = graph.reference_difficulty[answered]
    assert ref != 0.0  # the test ramp's first concept has easy questions
    assert enrollment.mastery_state[answered][0] == pytest.approx(1.5 - ref)
    assert enrollment.mastery_state[answered][1:] == [0.4, 100.0, 0]
    assert enrollment.mastery_state[prior_only] == [-0.8, 4.2, 100.0, 0]  # still the placement prior

    migration.shift_beliefs(apps, -1.0)
    enrollment.refresh_from_db()
    assert enrollment.mastery_state[answered][0] == pytest.approx(1.5)
