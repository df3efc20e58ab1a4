"""A web process fills its caches before serving (tutor/warmup.py, called by gunicorn)."""

import pytest

from courses.structure import _structure
from learner.graph_from_db import _graph
from tutor import gunicorn_conf
from tutor.warmup import warm_caches


@pytest.mark.django_db
def test_warming_builds_each_published_courses_graph_structure_and_templates(published_course):
    _graph.cache_clear()
    _structure.cache_clear()
    done = warm_caches()
    assert done["courses"] == 1
    assert done["templates"] >= 1  # the tiny ramp's template items were drawn once
    key = (published_course.pk, published_course.updated_at.isoformat())
    assert _graph.cache_info().currsize == 1 and _structure.cache_info().currsize == 1
    # what the answer path asks for is now a cache hit
    hits = _graph.cache_info().hits
    _graph(*key)
    assert _graph.cache_info().hits == hits + 1


@pytest.mark.django_db(transaction=True)
def test_gunicorn_warms_each_worker_in_a_thread_that_closes_its_connection(published_course, caplog):
    _graph.cache_clear()
    caplog.set_level("INFO", logger="tutor.warmup")
    gunicorn_conf.post_worker_init(worker=None)
    assert "warmed 1 courses" in caplog.text
    assert _graph.cache_info().currsize == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_warm_up_is_logged_and_the_worker_still_starts(monkeypatch, caplog):
    def broken():
        raise RuntimeError("database away")

    monkeypatch.setattr("tutor.warmup.warm_caches", broken)
    gunicorn_conf.post_worker_init(worker=None)
    assert "warming the caches failed" in caplog.text
