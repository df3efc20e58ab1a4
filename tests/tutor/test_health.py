"""/healthz: cheap, truthful per queue, detailed only for admins; pages that don't need the
broker keep working without it."""

import os
import shutil
import socket
import subprocess
import time
from unittest.mock import ANY

import pytest
from django.urls import reverse

from models_train.models import TrainingRun
from tests.conftest import wait_for
from tutor.celery import app
from tutor.health import public_health_forget
from tutor.models import WorkerCheck
from tutor.worker_presence import (
    KEY_PREFIX,
    STALE_SECONDS,
    Heartbeat,
    presence_clear,
    presence_write,
    workers_present,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forget_broker_connections() -> None:
    # Celery caches a connection pool and a producer pool per app.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_that_goes_away(settings):
    """A private Redis that the test can kill, with settings and Celery pointed at it."""
    server = shutil.which("redis-server")
    if not server:
        pytest.fail("needs redis-server (make test installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""], stdout=subprocess.DEVNULL
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    url = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = url
    old_url = app.conf.broker_url
    app.conf.broker_url = url
    _forget_broker_connections()

    def kill():
        process.terminate()
        process.wait(timeout=10)

    yield kill
    if process.poll() is None:
        kill()
    app.conf.broker_url = old_url
    _forget_broker_connections()


@pytest.fixture(autouse=True)
def _fresh_public_answer():
    public_health_forget()
    yield
    public_health_forget()


PUBLIC_KEYS = {"status", "failing"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthz_ok_with_everything_up(client, make_user, celery_worker_process):
    # the test worker consumes all three queues and reports itself when it is ready
    assert wait_for(lambda: workers_present(), timeout=30)
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body == {"status": "ok", "failing": []}  # nothing about hosts or the database
    client.force_login(make_user("admin"))
    detail = client.get(reverse("healthz")).json()
    assert set(detail["checks"]) == {"database", "broker", "queue default", "queue gpu", "queue tutor"}
    assert f"test-{os.getpid()}@" in detail["checks"]["queue default"]["detail"]
    assert detail["active_model_version"] is None


@pytest.mark.django_db
def test_healthz_fails_for_a_queue_without_a_worker(client, make_user, redis_that_goes_away):
    """Workers on gpu and tutor only: the default queue is named, not reported ok."""
    presence_write(hostname="gpu@box1", queues=["gpu", "tutor"])
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "failing": ["queue default"]}
    client.force_login(make_user("admin"))
    checks = client.get(reverse("healthz")).json()["checks"]
    assert checks["queue default"] == {"ok": False, "detail": "no worker consumes this queue", "ms": ANY}
    assert checks["queue gpu"]["detail"] == "gpu@box1" and checks["queue tutor"]["ok"]
    presence_write(hostname="default@web1", queues=["default"])
    assert client.get(reverse("healthz")).status_code == 200
    presence_clear(hostname="default@web1")  # a worker that stops says so at once
    assert client.get(reverse("healthz")).status_code == 503


@pytest.mark.django_db
def test_a_worker_that_dies_drops_out_when_its_record_expires(redis_that_goes_away, settings):
    import redis

    presence_write(hostname="w@box", queues=["default"])
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert 0 < client.ttl(KEY_PREFIX + "w@box") <= STALE_SECONDS
    client.pexpire(KEY_PREFIX + "w@box", 1)
    time.sleep(0.05)
    assert workers_present() == []


@pytest.mark.django_db
def test_the_heartbeat_reports_a_worker_until_it_stops(redis_that_goes_away):
    beat = Heartbeat("beat@box", lambda: ["tutor", "default"]).start()
    try:
        assert wait_for(lambda: workers_present(), timeout=5)[0]["queues"] == ["default", "tutor"]
    finally:
        beat.stop()
    assert workers_present() == []


def test_presence_works_with_the_filesystem_broker(settings, tmp_path):
    settings.REDIS_URL = None
    settings.BROKER_DIR = tmp_path
    presence_write(hostname="default@laptop", queues=["default"])
    assert [w["hostname"] for w in workers_present()] == ["default@laptop"]
    stale = time.time() - STALE_SECONDS - 1
    os.utime(tmp_path / "workers" / "default@laptop.json", (stale, stale))
    assert workers_present() == []


@pytest.mark.django_db
def test_anonymous_healthz_is_cheap_and_cached(client, redis_that_goes_away, django_assert_num_queries):
    """It used to wait out a 1 s ping every time; eight loops of it slowed every page."""
    started = time.perf_counter()
    assert client.get(reverse("healthz")).status_code == 503  # no worker at all
    assert time.perf_counter() - started < 0.5
    with django_assert_num_queries(0):  # answered from the cache: no database, no broker
        started = time.perf_counter()
        for _ in range(50):
            client.get(reverse("healthz"))
        assert time.perf_counter() - started < 1.0


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, "learner", "educator"])
def test_only_admins_see_the_details(client, make_user, role, redis_that_goes_away):
    if role:
        client.force_login(make_user(role))
    body = client.get(reverse("healthz")).json()
    assert set(body) == PUBLIC_KEYS
    assert "redis" not in str(body) and "postgresql" not in str(body) and "sqlite" not in str(body)


@pytest.mark.django_db
def test_healthz_503_names_the_broker_when_redis_is_down(client, make_user, redis_that_goes_away):
    redis_that_goes_away()
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert "broker" in body["failing"] and "queue default" in body["failing"]
    client.force_login(make_user("admin"))
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["database"]["ok"] is True
    assert "broker is down" in body["checks"]["queue default"]["detail"]


@pytest.mark.django_db(transaction=True)
def test_pages_survive_the_broker_going_away(client, make_user, redis_that_goes_away):
    redis_that_goes_away()
    learner, admin = make_user("learner"), make_user("admin")
    client.force_login(learner)
    assert client.get(reverse("learner_dashboard")).status_code == 200
    client.force_login(admin)
    assert client.get(reverse("admin_dashboard")).status_code == 200
    # The page that needs the broker says so instead of failing.
    response = client.post(reverse("worker_check_create"), {"queue": "default"}, follow=True)
    assert response.status_code == 200
    check = WorkerCheck.objects.get()
    assert check.status == WorkerCheck.Status.FAILED
    assert "broker could not be reached" in check.detail
    assert "broker could not be reached" in response.content.decode()
    # so does retraining the tutor: the run is recorded as failed, with the reason
    response = client.post(reverse("training_start"), {"preset": "quick"}, follow=True)
    assert response.status_code == 200
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.FAILED and "broker could not be reached" in run.error
    assert "Training could not be queued" in response.content.decode()
