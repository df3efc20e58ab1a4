"""Training runs: requested from the admin page (or the demo data), executed by a `gpu`
worker, ending in a candidate ModelVersion (the first one is promoted so learners have a
tutor at all).

A run that fails leaves the data as it was: no version is registered and the run says why.
A worker that dies mid-run gives its task back (acks_late); the redelivered task continues
the run in the same folder from its last checkpoints (`train_default_tutor --resume`).
"""

import io
import json
import traceback
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.publishing import publish_after_commit
from models_train.models import ModelVersion, TrainingRun
from models_train.versions import model_version_promote, model_version_register


def training_run_request(*, user=None, preset: str = TrainingRun.Preset.DEFAULT) -> TrainingRun:
    if preset not in TrainingRun.Preset.values:
        raise ValueError(f"unknown preset {preset!r}")
    with transaction.atomic():
        run = TrainingRun.objects.create(preset=preset, requested_by=user)
        publish_after_commit(
            "models_train.tasks.run_training",
            args=[run.pk],
            queue="gpu",
            on_broker_down=lambda reason: TrainingRun.objects.filter(pk=run.pk).update(
                status=TrainingRun.Status.FAILED, finished_at=timezone.now(), error=reason
            ),
        )
    return run


def training_run_active() -> TrainingRun | None:
    return TrainingRun.objects.filter(
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]
    ).first()


def training_run_execute(*, run_id: int, worker: str = "") -> TrainingRun:
    run = TrainingRun.objects.get(pk=run_id)
    if run.status == TrainingRun.Status.SUCCEEDED:
        return run  # a redelivered message for a finished run
    out = Path(settings.RAMP_MODEL_STORE) / "runs" / f"run-{run.pk}"
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING,
        started_at=timezone.now(),
        out_dir=str(out),
        worker=worker,
        attempts=run.attempts + 1,
    )
    stdout = io.StringIO()
    try:
        # A first attempt starts from nothing (whatever a folder of the same name holds, e.g.
        # from a database that was reset, is not this run's); a redelivered one (its worker
        # died) continues from the last checkpoints it wrote there.
        args = ["--out", str(out), "--resume" if run.attempts > 0 else "--overwrite"]
        if run.preset == TrainingRun.Preset.QUICK:
            args.append("--quick")
        call_command("train_default_tutor", *args, stdout=stdout, stderr=io.StringIO())
        summary = json.loads(stdout.getvalue().strip().splitlines()[-1])
    except Exception as error:  # the run records every failure; nothing else changes
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}\n\n{traceback.format_exc()[-4000:]}",
        )
        return TrainingRun.objects.get(pk=run.pk)
    with transaction.atomic():
        version = model_version_register(
            name=f"tutor-{run.pk}-{timezone.now():%Y%m%d-%H%M%S}",
            checkpoint_path=summary["checkpoint"],
            metrics={
                k: summary.get(k)
                for k in (
                    "params",
                    "dialogue_loss",
                    "val_bpb",
                    "all_sources",
                    "ramp_replies",
                    "ramp_practice",
                    "ramp_practice_constrained",
                    "wall_s",
                )
            },
        )
        if (
            run.preset != TrainingRun.Preset.QUICK
            and not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
        ):
            model_version_promote(version=version)
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.SUCCEEDED, finished_at=timezone.now(), summary=summary, version=version
        )
    return TrainingRun.objects.get(pk=run.pk)
