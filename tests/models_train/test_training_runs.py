"""Training runs through a real gpu-queue worker, versions, promotion and roll back."""

from pathlib import Path

import pytest
from django.urls import reverse

from models_train.models import ModelVersion, TrainingRun
from models_train.versions import (
    VersionError,
    model_version_promote,
    model_version_register,
    model_version_rollback,
)
from tests.conftest import wait_for


def version(name):
    return model_version_register(name=name, checkpoint_path=f"/store/{name}")


@pytest.mark.django_db
def test_promote_is_one_switch_and_rollback_restores_the_previous():
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
    for user in (learner, educator):
        client.force_login(user)
        assert client.get(reverse("models_page")).status_code == 403
        assert client.post(reverse("version_promote", args=[v.pk])).status_code == 403
        assert client.post(reverse("training_start")).status_code == 403
        assert client.post(reverse("version_rollback")).status_code == 403
    assert ModelVersion.objects.get(pk=v.pk).status == "candidate"
    assert TrainingRun.objects.count() == 0
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
    # the version points at the checkpoint the worker wrote
    assert (Path(run.version.checkpoint_path) / "model.safetensors").is_file()
    html = client.get(reverse("models_page")).content.decode()
    assert run.version.name in html


@pytest.mark.django_db
def test_a_first_attempt_starts_fresh_and_a_redelivered_one_resumes(settings, tmp_path, monkeypatch):
    """The run folder is named by the run's id, which a reset database hands out again: only
    a redelivery of the same run (attempts > 0) may continue what the folder holds."""
    import json

    from models_train import training

    settings.RAMP_MODEL_STORE = str(tmp_path)
    calls = []

    def fake_call_command(name, *args, stdout, **kw):
        calls.append(args)
        stdout.write(json.dumps({"checkpoint": str(tmp_path / "ck"), "params": 1}) + "\n")

    monkeypatch.setattr(training, "call_command", fake_call_command)
    first = TrainingRun.objects.create(preset=TrainingRun.Preset.QUICK)
    training.training_run_execute(run_id=first.pk)
    assert "--overwrite" in calls[-1] and "--resume" not in calls[-1]
    redelivered = TrainingRun.objects.create(preset=TrainingRun.Preset.QUICK, attempts=1)
    training.training_run_execute(run_id=redelivered.pk)
    assert "--resume" in calls[-1] and "--overwrite" not in calls[-1]
    assert TrainingRun.objects.get(pk=redelivered.pk).attempts == 2
