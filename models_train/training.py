"""Training runs: requested from the admin page (or the demo data), executed by a `gpu`
worker, ending in a candidate ModelVersion (the first one is promoted so learners have a
tutor at all).

    from models_train.training import training_run_request
    training_run_request(user=admin, preset="quick")   # a gpu worker picks it up (< 1 min on CPU)

A run that fails leaves the data as it was: no version is registered and the run says why.
Its worker writes a heartbeat every few seconds (models_train/run_progress.py). When the
whole worker dies (kill -9, a lost machine) the broker keeps its task until the visibility
timeout (days), so `training_runs_watch` (on the beat schedule, and when a gpu worker
starts) takes a silent run for lost and queues it again; the next attempt continues in the
same folder from its last checkpoints. The old message, delivered much later, finds the run
finished (or alive) and does nothing: each attempt claims the run under a row lock first.
An admin may cancel a queued or running run; the training stops at its next step.
"""

import contextlib
import os
import socket
import sys
import traceback
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.publishing import publish_after_commit
from models_train.default_training import PRESETS, default_tutor_args, default_tutor_train
from models_train.gate import gate_failures
from models_train.models import ModelVersion, TrainingRun
from models_train.run_progress import Heartbeat, LogTee, RunProgress
from models_train.trainer import StopTraining
from models_train.versions import model_version_promote, model_version_register

LIVE = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)
# What of the training summary a version keeps as its metrics (the gate reads them): all of
# it but the paths, which the version has as checkpoint_path.
NOT_METRICS = ("checkpoint", "report")
FIRST_VERSION_REASON = (
    "Promoted automatically: no version was serving, so learners had no tutor model at all. "
    "Promote a better version when one passes the gate."
)


class TrainingError(ValueError):
    pass


def _publish(run: TrainingRun, *, failure: str) -> None:
    publish_after_commit(
        "models_train.tasks.run_training",
        args=[run.pk],
        queue="gpu",
        on_broker_down=lambda reason: TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.FAILED, finished_at=timezone.now(), error=f"{failure}{reason}"
        ),
    )


@transaction.atomic
def training_run_request(
    *, user=None, preset: str = TrainingRun.Preset.DEFAULT, options: dict | None = None
) -> TrainingRun:
    if preset not in TrainingRun.Preset.values or preset not in PRESETS:
        raise TrainingError(f"unknown preset {preset!r}")
    default_tutor_args(preset=preset, size=options)  # refuses unknown options now, not on the worker
    run = TrainingRun(preset=preset, requested_by=user, options=options or {})
    run.full_clean()
    run.save()
    _publish(run, failure="")
    return run


def training_run_active() -> TrainingRun | None:
    return TrainingRun.objects.filter(status__in=LIVE).first()


def _silent_for(run: TrainingRun, now) -> float:
    last = run.heartbeat_at or run.started_at or run.created_at
    return (now - last).total_seconds()


def _is_lost(run: TrainingRun, now) -> bool:
    return (
        run.status == TrainingRun.Status.RUNNING
        and _silent_for(run, now) > settings.RAMP_TRAINING_LOST_SECONDS
    )


def _process_gone(run: TrainingRun) -> bool:
    """Whether the attempt's process, on this very host, has exited: a pool child that died
    (its task given back at once by reject_on_worker_lost) need not wait for the heartbeat
    to go silent. Elsewhere, or if its pid was reused, only the heartbeat can tell."""
    host, _, pid = run.process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@transaction.atomic
def training_run_claim(*, run_id: int, worker: str) -> TrainingRun | None:
    """Start the next attempt of a run in this process; None when there is nothing to do: the
    run is finished, or alive in another process (a duplicate or late message)."""
    run = TrainingRun.objects.select_for_update().get(pk=run_id)
    now = timezone.now()
    alive = run.status == TrainingRun.Status.RUNNING and not (_is_lost(run, now) or _process_gone(run))
    if run.status not in LIVE or alive:
        return None
    if run.cancel_requested_at is not None:
        _mark_cancelled(run, now)
        return None
    run.status = TrainingRun.Status.RUNNING
    run.attempts += 1
    run.worker = worker
    run.process = f"{socket.gethostname()}:{os.getpid()}"
    run.heartbeat_at = now
    run.started_at = run.started_at or now
    run.out_dir = str(Path(settings.RAMP_MODEL_STORE) / "runs" / f"run-{run.pk}")
    run.full_clean()
    run.save()
    return run


def training_run_execute(*, run_id: int, worker: str = "") -> TrainingRun:
    """One attempt of a run, on this process; what a gpu worker's task does."""
    run = training_run_claim(run_id=run_id, worker=worker)
    if run is None:
        return TrainingRun.objects.get(pk=run_id)
    progress = RunProgress(run.progress, attempt=run.attempts)
    heartbeat = Heartbeat(
        run_id=run.pk,
        attempt=run.attempts,
        progress=progress,
        interval=settings.RAMP_TRAINING_HEARTBEAT_SECONDS,
    )

    def on_event(event: dict) -> None:
        progress.on_event(event)
        if heartbeat.stop_reason:
            raise StopTraining(heartbeat.stop_reason)

    out = Path(run.out_dir)
    tee = LogTee(progress, out / "train.log", sys.stdout, append=run.attempts > 1)
    heartbeat.start()
    try:
        with contextlib.redirect_stdout(tee):
            # A first attempt starts from nothing (whatever a folder of the same name holds,
            # e.g. from a database that was reset, is not this run's); a later one (its worker
            # died) continues from the last checkpoints it wrote there.
            summary = default_tutor_train(
                out=out,
                preset=run.preset,
                size=run.options or None,
                overwrite=run.attempts == 1,
                resume=run.attempts > 1,
                on_event=on_event,
            )
    except StopTraining as stop:
        heartbeat.stop()
        return _stopped(run=run, reason=str(stop), progress=progress.snapshot())
    except Exception as error:  # the run records every failure; nothing else changes
        heartbeat.stop()
        return _failed(run=run, error=error, progress=progress.snapshot())
    finally:  # whatever ends the attempt (even SystemExit), no beat may outlive it
        heartbeat.stop()
        tee.close()
    return _succeeded(run=run, summary=summary, progress=progress.snapshot())


def _still_ours(run: TrainingRun) -> TrainingRun | None:
    """The run's row, locked, if this attempt still owns it (not taken for lost meanwhile)."""
    current = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if current.status != TrainingRun.Status.RUNNING or current.attempts != run.attempts:
        return None
    return current


def _mark_cancelled(run: TrainingRun, now, progress: dict | None = None) -> None:
    run.status = TrainingRun.Status.CANCELLED
    run.finished_at = now
    run.cancel_requested_at = run.cancel_requested_at or now
    if progress is not None:
        run.progress = progress
    run.full_clean()
    run.save()


@transaction.atomic
def _stopped(*, run: TrainingRun, reason: str, progress: dict) -> TrainingRun:
    current = _still_ours(run)
    if current is not None and reason == "cancelled":
        _mark_cancelled(current, timezone.now(), progress)
    return TrainingRun.objects.get(pk=run.pk)


@transaction.atomic
def _failed(*, run: TrainingRun, error: Exception, progress: dict) -> TrainingRun:
    current = _still_ours(run)
    if current is not None:
        current.status = TrainingRun.Status.FAILED
        current.finished_at = timezone.now()
        current.progress = progress
        current.error = f"{type(error).__name__}: {error}\n\n{traceback.format_exc()[-4000:]}"
        current.full_clean()
        current.save()
    return TrainingRun.objects.get(pk=run.pk)


@transaction.atomic
def _succeeded(*, run: TrainingRun, summary: dict, progress: dict) -> TrainingRun:
    current = _still_ours(run)
    if current is None:  # another attempt owns the run now; it registers the version
        return TrainingRun.objects.get(pk=run.pk)
    now = timezone.now()
    if current.cancel_requested_at is not None:  # cancelled after the last step: no version
        _mark_cancelled(current, now, progress)
        return current
    version = model_version_register(
        name=f"tutor-{run.pk}-{now:%Y%m%d-%H%M%S}",
        checkpoint_path=summary["checkpoint"],
        metrics={k: v for k, v in summary.items() if k not in NOT_METRICS},
    )
    if (
        run.preset != TrainingRun.Preset.QUICK
        and not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
    ):
        reason = FIRST_VERSION_REASON if gate_failures(version.metrics) else ""
        model_version_promote(version=version, override_reason=reason)
    current.status = TrainingRun.Status.SUCCEEDED
    current.finished_at = now
    current.summary = summary
    current.progress = progress
    current.version = version
    current.full_clean()
    current.save()
    return current


@transaction.atomic
def training_run_cancel(*, run: TrainingRun, by=None) -> TrainingRun:
    """Cancel a queued run at once; ask a running one to stop at its next step (its worker
    says when it has: the run turns cancelled). A run whose worker is lost is cancelled at once."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    now = timezone.now()
    if run.status not in LIVE:
        raise TrainingError(f"Run {run.pk} has already {run.get_status_display().lower()}.")
    run.cancelled_by = by
    run.cancel_requested_at = run.cancel_requested_at or now
    if run.status == TrainingRun.Status.QUEUED or _is_lost(run, now):
        _mark_cancelled(run, now)
    else:
        run.full_clean()
        run.save()
    return run


@transaction.atomic
def training_runs_watch(*, restarted_worker: str = "") -> list[TrainingRun]:
    """Find running runs whose worker died (a heartbeat silent for RAMP_TRAINING_LOST_SECONDS,
    or `restarted_worker`, a worker that just started and so runs nothing yet) and queue each
    again to resume from its checkpoints (or finish cancelling it). Returns the runs."""
    now = timezone.now()
    silent = now - timedelta(seconds=settings.RAMP_TRAINING_LOST_SECONDS)
    lost = Q(heartbeat_at__lt=silent) | Q(heartbeat_at__isnull=True, started_at__lt=silent)
    if restarted_worker:
        lost |= Q(worker=restarted_worker)
    found = []
    runs = TrainingRun.objects.select_for_update(skip_locked=True).filter(
        lost, status=TrainingRun.Status.RUNNING
    )
    for run in runs:
        if run.cancel_requested_at is not None:
            _mark_cancelled(run, now)
        else:
            run.status = TrainingRun.Status.QUEUED
            run.lost_at = now
            run.lost_worker = run.worker
            run.full_clean()
            run.save()
            _publish(run, failure="Its worker was lost, and the run could not be queued again: ")
        found.append(run)
    return found


def training_run_state(run: TrainingRun, *, now=None) -> str:
    """What the run is doing right now, in a sentence for the admin page."""
    now = now or timezone.now()

    def clock(moment) -> str:
        return timezone.localtime(moment).strftime("%H:%M:%S")

    attempt = f" (attempt {run.attempts})" if run.attempts > 1 else ""
    if run.status == TrainingRun.Status.QUEUED and run.lost_at:
        return (
            f"Worker {run.lost_worker or '?'} lost at {clock(run.lost_at)}; waiting for a gpu worker "
            f"to resume it from its last checkpoint (attempt {run.attempts + 1})."
        )
    if run.status == TrainingRun.Status.QUEUED:
        return "Queued: waiting for a gpu worker."
    if run.status == TrainingRun.Status.RUNNING:
        silent = round(_silent_for(run, now))
        if run.cancel_requested_at:
            return (
                f"Cancelling: waiting for {run.worker} to stop at its next step (heartbeat {silent} s ago)."
            )
        if _is_lost(run, now):
            return (
                f"No heartbeat from {run.worker} for {silent} s: its worker looks dead. The run will be "
                "queued again to resume when the watch next looks (every 30 s) or a gpu worker starts."
            )
        resumed = " Resumed" + attempt + "." if run.attempts > 1 else ""
        return f"Running on {run.worker}, heartbeat {silent} s ago.{resumed}"
    if run.status == TrainingRun.Status.CANCELLED:
        by = f" by {run.cancelled_by}" if run.cancelled_by else ""
        when = clock(run.finished_at or run.cancel_requested_at)
        return f"Cancelled{by} at {when}; no version was registered."
    if run.status == TrainingRun.Status.FAILED:
        return f"Failed{attempt}; no version was registered."
    took = (
        round((run.finished_at - run.started_at).total_seconds()) if run.finished_at and run.started_at else 0
    )
    return f"Succeeded{attempt} in {took // 60} min {took % 60} s."
