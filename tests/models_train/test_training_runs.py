"""Training runs through a real gpu-queue worker, versions, promotion and roll back.

(The eval gate: test_gate.py; progress, cancel and lost workers: test_run_lifecycle.py and
test_worker_resume.py.)"""

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from models_train.models import ModelVersion, TrainingRun
from models_train.versions import (
    VersionError,
    model_version_promote,
    model_version_register,
    model_version_rollback,
)
from tests.conftest import wait_for


def version(name, metrics=None):
    return model_version_register(name=name, checkpoint_path=f"/store/{name}", metrics=metrics)


@pytest.mark.django_db
def test_promote_is_one_switch_and_rollback_restores_the_previous(settings):
    settings.RAMP_PROMOTION_GATE = []
    a, b = version("a"), version("b")
    model_version_promote(version=a)
    model_version_promote(version=b)
    assert list(ModelVersion.objects.filter(status="active")) == [b]
    restored = model_version_rollback()
    assert restored == a and ModelVersion.objects.get(status="active") == a
    assert ModelVersion.objects.get(name="b").status == "candidate"


@pytest.mark.django_db
def test_rollback_without_history_is_refused():
    with pytest.raises(VersionError):
        model_version_rollback()


@pytest.mark.django_db
def test_model_pages_are_for_admins_only(client, learner, educator, admin_user):
    v = version("a")
    run = TrainingRun.objects.create()
    posts = [
        reverse("version_promote", args=[v.pk]),
        reverse("training_start"),
        reverse("version_rollback"),
        reverse("training_cancel", args=[run.pk]),
    ]
    assert client.get(reverse("models_page")).url.startswith(reverse("login"))
    assert client.get(reverse("models_page"), headers={"HX-Request": "true"}).status_code == 302
    for url in posts:
        response = client.post(url, {"reason": "x"})
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    for user in (learner, educator):
        client.force_login(user)
        assert client.get(reverse("models_page")).status_code == 403
        assert client.get(reverse("models_page"), headers={"HX-Request": "true"}).status_code == 403
        for url in posts:
            assert client.post(url, {"reason": "x"}).status_code == 403
    assert ModelVersion.objects.get(pk=v.pk).status == "candidate"
    assert TrainingRun.objects.get().status == TrainingRun.Status.QUEUED
    client.force_login(admin_user)
    assert client.get(reverse("models_page")).status_code == 200


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_quick_training_run_on_the_gpu_queue_registers_a_version(
    client, admin_user, celery_worker_process, settings, tmp_path
):
    client.force_login(admin_user)
    response = client.post(reverse("training_start"), {"preset": "quick"})
    assert response.status_code == 302
    run = TrainingRun.objects.get()

    def finished():
        run.refresh_from_db()
        return run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED)

    assert wait_for(finished, timeout=300, interval=1), run.status
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.worker.startswith("test-")
    assert run.version is not None and run.version.status == "candidate"  # smoke runs are never promoted
    # the version points at the checkpoint the worker wrote, and keeps the run's metrics
    assert (Path(run.version.checkpoint_path) / "model.safetensors").is_file()
    assert run.version.metrics["sft"]["stop_reason"] and "ramp_replies" in run.version.metrics
    # the worker reported its stages and both loss curves as it went
    stages = run.progress["stages"]
    assert stages["sft"]["step"] == stages["sft"]["total"] == 3 and stages["sft"]["val"]
    assert stages["pretrain"]["train"] and run.progress["log"]
    html = client.get(reverse("models_page")).content.decode()
    assert run.version.name in html and "Succeeded" in html


@pytest.mark.django_db(transaction=True)
def test_a_first_attempt_starts_fresh_and_a_resumed_one_continues(settings, tmp_path, monkeypatch):
    """The run folder is named by the run's id, which a reset database hands out again: only
    a later attempt of the same run may continue what the folder holds."""
    from models_train import training

    settings.RAMP_MODEL_STORE = str(tmp_path)
    calls = []

    def fake_train(**kwargs):
        calls.append(kwargs)
        return {"checkpoint": str(tmp_path / "ck"), "params": 1}

    monkeypatch.setattr(training, "default_tutor_train", fake_train)
    first = TrainingRun.objects.create(preset=TrainingRun.Preset.QUICK)
    assert training.training_run_execute(run_id=first.pk).status == TrainingRun.Status.SUCCEEDED
    assert calls[-1]["overwrite"] and not calls[-1]["resume"]
    assert calls[-1]["out"] == tmp_path / "runs" / f"run-{first.pk}"
    lost = TrainingRun.objects.create(preset=TrainingRun.Preset.QUICK, attempts=1, lost_at=timezone.now())
    assert training.training_run_execute(run_id=lost.pk).attempts == 2
    assert calls[-1]["resume"] and not calls[-1]["overwrite"]


@pytest.mark.django_db(transaction=True)
def test_the_first_default_version_serves_even_below_the_gate_and_says_why(settings, tmp_path, monkeypatch):
    """A fresh install has no tutor model at all: its first default version is promoted
    automatically, recorded as Ramp's override of the gate; later ones wait for an admin."""
    from models_train import training
    from models_train.models import ModelVersionChange

    settings.RAMP_MODEL_STORE = str(tmp_path)
    monkeypatch.setattr(training, "default_tutor_train", lambda **kw: {"checkpoint": "/ck", "params": 1})
    first = training.training_run_execute(run_id=TrainingRun.objects.create().pk).version
    assert first.status == "active"
    change = ModelVersionChange.objects.get()
    assert change.by is None and change.below_gate and change.reason == training.FIRST_VERSION_REASON
    second = training.training_run_execute(run_id=TrainingRun.objects.create().pk).version
    assert second.status == "candidate" and ModelVersionChange.objects.count() == 1
