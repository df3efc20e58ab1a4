"""/healthz names what is down; pages that don't need the broker keep working without it."""

import shutil
import socket
import subprocess
import time

import pytest
from django.urls import reverse

from models_train.models import TrainingRun
from tutor.celery import app
from tutor.models import WorkerCheck


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


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_healthz_ok_with_everything_up(client, celery_worker_process):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "workers"}
    assert body["active_model_version"] is None


@pytest.mark.django_db
def test_healthz_503_names_the_broker_when_redis_is_down(client, redis_that_goes_away):
    redis_that_goes_away()
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert "broker" in body["failing"]
    assert body["checks"]["database"]["ok"] is True
    assert "broker is down" in body["checks"]["workers"]["detail"]


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
