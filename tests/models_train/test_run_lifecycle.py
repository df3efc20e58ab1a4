"""A training run's life on the Django side: each attempt claims the run first (so a late or
duplicate message does nothing), the watch takes a silent run for lost and queues it again,
cancel stops a queued run at once and a running one at its next step, and the page says
what is true at each moment. The training itself is faked here; test_worker_resume.py
runs the real one in a worker that is killed."""

import os
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from models_train import training
from models_train.models import ModelVersion, TrainingRun
from models_train.trainer import emit
from models_train.training import (
    TrainingError,
    training_run_active,
    training_run_cancel,
    training_run_claim,
    training_run_execute,
    training_run_state,
    training_runs_watch,
)

RUNNING = TrainingRun.Status.RUNNING


def a_run(**fields):
    now = timezone.now()
    defaults = {"preset": TrainingRun.Preset.QUICK}
    if fields.get("status") == RUNNING:
        defaults.update(worker="gpu@a", attempts=1, started_at=now, heartbeat_at=now)
    return TrainingRun.objects.create(**{**defaults, **fields})


def silent(seconds):
    return timezone.now() - timedelta(seconds=seconds)


@pytest.mark.django_db
def test_an_attempt_claims_only_a_run_that_is_queued_or_lost(settings, tmp_path):
    settings.RAMP_MODEL_STORE = str(tmp_path)
    assert training_run_claim(run_id=a_run(status=TrainingRun.Status.SUCCEEDED).pk, worker="gpu@b") is None
    assert training_run_claim(run_id=a_run(status=TrainingRun.Status.CANCELLED).pk, worker="gpu@b") is None
    alive = a_run(status=RUNNING)
    assert training_run_claim(run_id=alive.pk, worker="gpu@b") is None  # a duplicate message
    queued = training_run_claim(run_id=a_run().pk, worker="gpu@b")
    assert (queued.status, queued.attempts, queued.worker) == (RUNNING, 1, "gpu@b")
    assert queued.out_dir == str(tmp_path / "runs" / f"run-{queued.pk}")
    lost = a_run(status=RUNNING, heartbeat_at=silent(settings.RAMP_TRAINING_LOST_SECONDS + 5))
    taken = training_run_claim(run_id=lost.pk, worker="gpu@b")
    assert (taken.attempts, taken.worker) == (2, "gpu@b")


@pytest.mark.django_db
def test_a_run_whose_process_died_on_this_host_is_taken_back_at_once(settings, tmp_path):
    """A pool child killed alone: its task comes back at once (reject_on_worker_lost), and
    the heartbeat it wrote a moment ago must not make the run look alive."""
    settings.RAMP_MODEL_STORE = str(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    here = socket.gethostname()
    gone = a_run(status=RUNNING, process=f"{here}:{dead.pid}")
    assert training_run_claim(run_id=gone.pk, worker="gpu@a").attempts == 2
    assert (
        training_run_claim(run_id=a_run(status=RUNNING, process=f"{here}:{os.getpid()}").pk, worker="w")
        is None
    )
    assert (
        training_run_claim(run_id=a_run(status=RUNNING, process=f"elsewhere:{dead.pid}").pk, worker="w")
        is None
    )


@pytest.mark.django_db
def test_a_finished_runs_late_message_does_nothing(monkeypatch):
    monkeypatch.setattr(training, "default_tutor_train", lambda **kw: pytest.fail("trained again"))
    run = a_run(status=TrainingRun.Status.SUCCEEDED, attempts=1)
    assert training_run_execute(run_id=run.pk, worker="gpu@b").attempts == 1


@pytest.mark.django_db
def test_the_watch_queues_a_silent_run_again_and_leaves_a_live_one(
    settings, django_capture_on_commit_callbacks
):
    lost = a_run(status=RUNNING, heartbeat_at=silent(settings.RAMP_TRAINING_LOST_SECONDS + 1))
    alive = a_run(status=RUNNING, heartbeat_at=silent(2))
    with django_capture_on_commit_callbacks() as published:
        assert training_runs_watch() == [lost]
    assert len(published) == 1  # run_training, for the lost run, on the gpu queue
    lost.refresh_from_db()
    assert lost.status == TrainingRun.Status.QUEUED and lost.lost_worker == "gpu@a" and lost.lost_at
    assert TrainingRun.objects.get(pk=alive.pk).status == RUNNING
    state = training_run_state(lost)
    assert state.startswith("Worker gpu@a lost at ") and "waiting for a gpu worker to resume it" in state
    assert "(attempt 2)" in state


@pytest.mark.django_db
def test_a_restarted_worker_takes_back_its_own_runs_at_once(django_capture_on_commit_callbacks):
    mine, other = a_run(status=RUNNING, worker="gpu@a"), a_run(status=RUNNING, worker="gpu@b")
    with django_capture_on_commit_callbacks() as published:
        assert training_runs_watch(restarted_worker="gpu@a") == [mine]
    assert len(published) == 1
    assert TrainingRun.objects.get(pk=other.pk).status == RUNNING


@pytest.mark.django_db
def test_a_lost_run_that_was_being_cancelled_is_cancelled(settings):
    run = a_run(status=RUNNING, cancel_requested_at=timezone.now(), heartbeat_at=silent(600))
    training_runs_watch()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED and run.finished_at


@pytest.mark.django_db
def test_the_state_tells_the_truth_about_a_running_run(settings):
    run = a_run(status=RUNNING, heartbeat_at=silent(4))
    assert training_run_state(run) == "Running on gpu@a, heartbeat 4 s ago."
    run.attempts = 2
    assert training_run_state(run) == "Running on gpu@a, heartbeat 4 s ago. Resumed (attempt 2)."
    run.heartbeat_at = silent(settings.RAMP_TRAINING_LOST_SECONDS + 10)
    assert training_run_state(run).startswith(
        f"No heartbeat from gpu@a for {settings.RAMP_TRAINING_LOST_SECONDS + 10} s"
    )
    run.heartbeat_at, run.cancel_requested_at = silent(1), timezone.now()
    assert training_run_state(run).startswith("Cancelling: waiting for gpu@a to stop at its next step")
    assert training_run_state(a_run()) == "Queued: waiting for a gpu worker."


@pytest.mark.django_db
def test_cancelling_a_queued_run_lets_a_new_one_start(client, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks():
        client.post(reverse("training_start"), {"preset": "quick"})
    run = TrainingRun.objects.get()
    html = client.get(reverse("models_page")).content.decode()
    assert f"Cancel run {run.pk}" in html and "Queued: waiting for a gpu worker." in html
    client.post(reverse("training_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED and run.cancelled_by == admin_user
    assert training_run_active() is None
    assert "Cancelled by" in client.get(reverse("models_page")).content.decode()
    with pytest.raises(TrainingError, match="already cancelled"):
        training_run_cancel(run=run)
    with django_capture_on_commit_callbacks():
        client.post(reverse("training_start"), {"preset": "quick"})
    assert TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED).count() == 1


def fake_training(*, at_step, then, steps=400):
    """A stand-in for default_tutor_train: emits what the real one does, a step every 20 ms,
    and calls `then()` at `at_step` (what another process would do meanwhile)."""

    def train(*, on_event, **kwargs):
        on_event({"event": "plan", "stages": [{"stage": "data"}, {"stage": "sft", "total": steps}]})
        on_event({"event": "start", "stage": "sft", "step": 0, "total": steps, "resumed": False})
        for step in range(1, steps + 1):
            time.sleep(0.02)
            on_event(
                {"event": "step", "stage": "sft", "step": step, "total": steps, "loss": 1.0, "tokens": step}
            )
            if step == at_step:
                then()
        return {"checkpoint": "/nowhere", "params": 1}

    return train


@pytest.fixture
def quick_beats(settings, tmp_path):
    settings.RAMP_MODEL_STORE = str(tmp_path)
    settings.RAMP_TRAINING_HEARTBEAT_SECONDS = 0.1


@pytest.mark.django_db(transaction=True)
def test_a_running_run_stops_at_its_next_step_when_cancelled(quick_beats, monkeypatch, admin_user):
    run = a_run()
    monkeypatch.setattr(
        training,
        "default_tutor_train",
        fake_training(at_step=5, then=lambda: training_run_cancel(run=run, by=admin_user)),
    )
    run = training_run_execute(run_id=run.pk, worker="gpu@a")
    assert run.status == TrainingRun.Status.CANCELLED and run.cancelled_by == admin_user
    assert 5 < run.progress["stages"]["sft"]["step"] < 100  # a few beats of 0.1 s, not the whole run
    assert not ModelVersion.objects.exists() and training_run_active() is None


@pytest.mark.django_db(transaction=True)
def test_an_attempt_taken_for_lost_gives_way(quick_beats, monkeypatch):
    run = a_run()

    def taken_for_lost():
        with transaction.atomic():  # or the next beat, between the two, makes it look alive again
            TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=silent(3600))
            training_runs_watch()

    monkeypatch.setattr(training, "default_tutor_train", fake_training(at_step=5, then=taken_for_lost))
    published = []  # not to the broker: a test worker would take the run up for real
    monkeypatch.setattr(training, "publish_after_commit", lambda name, **kw: published.append(kw["args"]))
    run = training_run_execute(run_id=run.pk, worker="gpu@a")
    assert published == [[run.pk]]
    # queued for the next attempt, which resumes from the checkpoints: not failed, no version
    assert run.status == TrainingRun.Status.QUEUED and run.lost_worker == "gpu@a"
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failure_is_recorded_with_the_log_so_far(quick_beats, monkeypatch):
    def broken(*, on_event, **kwargs):
        print("building dialogues")
        emit({"event": "stage", "stage": "data"})  # nobody listens outside default_tutor_train
        raise RuntimeError("no ramp could be read")

    monkeypatch.setattr(training, "default_tutor_train", broken)
    run = training_run_execute(run_id=a_run().pk, worker="gpu@a")
    assert run.status == TrainingRun.Status.FAILED and "no ramp could be read" in run.error
    assert run.progress["log"] == ["building dialogues"]
    assert (tmp_log := (training.Path(run.out_dir) / "train.log")).read_text() == "building dialogues\n", (
        tmp_log
    )


def test_the_watch_runs_on_the_default_queue_and_training_on_gpu(monkeypatch):
    """The gpu workers may be the ones that died: the watch must not wait for them."""
    from unittest import mock

    from models_train.tasks import run_training, watch_training_runs
    from tutor.celery import app

    sent = []
    monkeypatch.setattr(app.amqp, "send_task_message", lambda producer, name, message, **kw: sent.append(kw))
    watch_training_runs.apply_async(producer=mock.MagicMock())
    run_training.apply_async((1,), producer=mock.MagicMock())
    assert [(kw["queue"].name, kw["routing_key"]) for kw in sent] == [("default", "default"), ("gpu", "gpu")]
