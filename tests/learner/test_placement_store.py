"""Placements' particles in Redis: an answer that lands on another web process restores the
placement instead of replaying it, and without Redis placement still works (it replays)."""

import pytest
from django.core.cache import caches
from django.test import override_settings

from learner import placement as placement_module
from learner.graph_from_db import course_graph_for
from learner.models import Step
from learner.placement import Placement, state_key
from learner.placement_store import placement_store_for
from tests.conftest import require_redis
from tutor.study import answer_submit, current_step, study_start

pytestmark = pytest.mark.django_db


def _answer_placement(learner, course, answers: int):
    step = study_start(user=learner, course=course)
    for i in range(answers):
        assert step is not None and step.kind == Step.Kind.PLACEMENT
        step = answer_submit(user=learner, course=course, step_id=step.pk, dont_know=i % 2 == 0).next_step
    return step


def test_each_placement_answer_shares_its_particles_through_redis(learner, published_course, monkeypatch):
    require_redis()
    caches["placement"].clear()
    _answer_placement(learner, published_course, 2)
    enrollment = current_step(enrollment=learner.enrollments.get()).enrollment
    store = placement_store_for(published_course)
    assert isinstance(store.get(state_key(enrollment.placement)), bytes)
    # each answer's state replaced the one before it: one key for this learner
    import redis

    client = redis.Redis.from_url(require_redis())
    assert len(client.keys(f"*{store.prefix}*")) == 1
    # another process: nothing in its memory, and replaying is not allowed
    placement_module._CACHE.clear()
    monkeypatch.setattr(Placement, "observe", lambda *a, **k: pytest.fail("replayed"))
    restored = Placement.from_dict(course_graph_for(published_course), enrollment.placement, store=store)
    assert restored.to_dict() == enrollment.placement


def test_a_changed_course_does_not_reuse_the_old_graphs_particles(learner, published_course):
    require_redis()
    before = placement_store_for(published_course).prefix
    from courses.services import course_touch

    course_touch(published_course)
    published_course.refresh_from_db()
    assert placement_store_for(published_course).prefix != before


@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "placement": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
)
def test_without_redis_placement_goes_on_by_replaying(learner, published_course, caplog):
    first = _answer_placement(learner, published_course, 1)
    placement_module._CACHE.clear()
    step = answer_submit(user=learner, course=published_course, step_id=first.pk, answer="x").next_step
    assert step is not None
    assert "placement store unavailable" in caplog.text
