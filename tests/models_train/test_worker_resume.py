"""The whole gpu worker dies mid-run (kill -9 of its process group: the broker keeps the
task unacknowledged for days) and a new worker starts: it finds the run that says it runs
on its name, queues it again, and resumes it from its last checkpoint to a version."""

import os
import signal
import socket
import subprocess
import sys

import pytest
from django.urls import reverse

from models_train.models import TrainingRun
from models_train.training import training_run_request, training_run_state
from tests.conftest import ARTIFACTS, ROOT, _database_url, require_redis, wait_for
from tutor.celery import app

NAME = f"testgpu-{os.getpid()}@{socket.gethostname()}"
# 250 small SFT steps with a checkpoint every 25: long enough to kill it after one, short
# enough for CI (~20-40 s a run on 2 cores)
OPTIONS = {"pretrain_steps": 20, "sft_steps": 250, "ckpt_every": 25, "sft_patience": 0}


@pytest.fixture
def gpu_worker(django_db_blocker, tmp_path):
    """start() launches a `-Q gpu` prefork worker in its own process group (kill -9 takes
    all of it); other test workers stop consuming the gpu queue meanwhile."""
    redis_url = require_redis()
    with django_db_blocker.unblock():
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "RAMP_MODEL_STORE": str(tmp_path / "store"),
            "RAMP_TRAINING_HEARTBEAT_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    others = [name for reply in app.control.ping(timeout=0.5) for name in reply]
    if others:
        app.control.cancel_consumer("gpu", destination=others, reply=True)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("gpu")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "celery-gpu-worker.log", "w")  # closed below
    started = []

    def start():
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tutor", "worker", "-Q", "gpu", "-P", "prefork"]
            + ["-c", "1", "-n", NAME, "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        assert wait_for(lambda: app.control.ping(destination=[NAME], timeout=0.5), timeout=60), log.name
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    log.close()
    if others:
        app.control.add_consumer("gpu", destination=others, reply=True)


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_gpu_worker_s_run_resumes_from_its_checkpoint_on_a_new_worker(
    gpu_worker, client, admin_user
):
    worker = gpu_worker()
    run = training_run_request(user=admin_user, preset=TrainingRun.Preset.QUICK, options=OPTIONS)

    def fresh():
        run.refresh_from_db()
        return run

    def sft_checkpointed():
        return (fresh().progress.get("stages", {}).get("sft", {}).get("checkpoint_step") or 0) >= 25

    assert wait_for(sft_checkpointed, timeout=60, interval=0.2), (run.status, run.error)
    os.killpg(worker.pid, signal.SIGKILL)  # the whole worker: parent and pool child
    worker.wait()
    # What the database knew at death; the heartbeat writes it every interval, so the
    # checkpoint on disk may be a little later than the last one recorded here.
    checkpoint_known = fresh().progress["stages"]["sft"]["checkpoint_step"]
    assert run.status == TrainingRun.Status.RUNNING and run.worker == NAME  # nobody knows yet
    assert training_run_state(run).startswith(f"Running on {NAME}, heartbeat")

    gpu_worker()  # same name, as a restarted box would have
    assert wait_for(lambda: fresh().status in ("succeeded", "failed"), timeout=150, interval=0.5), run.status
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2 and run.lost_worker == NAME and run.lost_at is not None
    [sft] = [r for r in run.progress["resumed"] if r["stage"] == "sft"]
    # its last checkpoint, not step 0 nor the end
    assert 25 <= checkpoint_known <= sft["step"] < 250 and sft["step"] % 25 == 0
    assert run.progress["stages"]["sft"]["step"] == 250
    assert run.version is not None and run.version.checkpoint_path.startswith(run.out_dir)

    client.force_login(admin_user)
    html = client.get(reverse("models_page") + f"?run={run.pk}").content.decode()
    assert "Succeeded (attempt 2)" in html and "Attempt 2: Pretraining was complete (step 20 of 20)." in html
    assert f"Fine-tuning (SFT) resumed from its checkpoint at step {sft['step']} of 250." in html
