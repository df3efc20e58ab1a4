"""Admin pages for the tutor model: versions (the eval gate, promote, roll back) and training
runs (start, live progress, cancel). One page, /system/models/; its runs part is an htmx
fragment that polls while a run is queued or running."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.accounts.permissions import admin_required
from models_train.api import active_model_version
from models_train.gate import version_report
from models_train.models import ModelVersion, TrainingRun
from models_train.run_panel import run_panel
from models_train.training import (
    LIVE,
    TrainingError,
    training_run_active,
    training_run_cancel,
    training_run_request,
)
from models_train.versions import (
    BelowGate,
    VersionError,
    model_version_changes,
    model_version_promote,
    model_version_rollback,
    model_version_rollback_target,
    model_versions,
)

TEMPLATE = "models_train/models.html"


def _runs_context(run_id: str | None) -> dict:
    runs = list(TrainingRun.objects.select_related("version", "requested_by", "cancelled_by")[:10])
    shown = next((r for r in runs if str(r.pk) == run_id), None) if run_id else None
    if shown is None and run_id and run_id.isdigit():
        shown = TrainingRun.objects.filter(pk=run_id).first()
    shown = shown or next((r for r in runs if r.status in LIVE), None) or (runs[0] if runs else None)
    return {
        "runs": runs,
        "panel": run_panel(shown) if shown else None,
        "polling": any(r.status in LIVE for r in runs),
    }


def _versions_context() -> dict:
    active = active_model_version()
    versions = []
    for v in model_versions():
        beside = active.metrics if active is not None and active.pk != v.pk else None
        report = version_report(metrics=v.metrics, active_metrics=beside)
        checks = [r.check for r in report if r.check is not None]
        versions.append(
            {
                "version": v,
                "report": report,
                "failed": [c for c in checks if not c.passed],
                "checks": len(checks),
                "beside": active if beside is not None else None,
            }
        )
    return {
        "versions": versions,
        "active": active,
        "rollback_target": model_version_rollback_target(),
        "changes": model_version_changes(),
    }


@require_GET
@admin_required
def models_page(request):
    context = _runs_context(request.GET.get("run"))
    if request.htmx:
        return render(request, TEMPLATE + "#runs", context)
    context.update(_versions_context(), presets=TrainingRun.Preset.choices)
    return render(request, TEMPLATE, context)


@require_POST
@admin_required
def training_start(request):
    if training_run_active() is not None:
        messages.error(request, "A training run is already queued or running; wait for it to finish.")
        return redirect("models_page")
    try:
        run = training_run_request(
            user=request.user, preset=request.POST.get("preset", TrainingRun.Preset.DEFAULT)
        )
    except TrainingError as error:
        messages.error(request, str(error))
        return redirect("models_page")
    run.refresh_from_db()  # publishing happened on commit: a broker that is down failed the run
    if run.status == TrainingRun.Status.FAILED:
        messages.error(request, f"Training could not be queued. {run.error}")
    else:
        messages.success(request, "Training queued on the gpu queue. Progress shows below.")
    return redirect("models_page")


@require_POST
@admin_required
def training_cancel(request, pk):
    run = get_object_or_404(TrainingRun, pk=pk)
    try:
        run = training_run_cancel(run=run, by=request.user)
    except TrainingError as error:
        messages.error(request, str(error))
    else:
        if run.status == TrainingRun.Status.CANCELLED:
            messages.success(request, f"Run {run.pk} is cancelled.")
        else:
            messages.success(request, f"Run {run.pk} stops at its next step.")
    return redirect("models_page")


@require_POST
@admin_required
def version_promote(request, pk):
    version = get_object_or_404(ModelVersion, pk=pk)
    try:
        model_version_promote(
            version=version, by=request.user, override_reason=request.POST.get("reason", "")
        )
    except BelowGate as error:
        messages.error(request, f"{version.name} was not promoted. {error}")
    else:
        messages.success(request, f"{version.name} now serves learners.")
    return redirect("models_page")


@require_POST
@admin_required
def version_rollback(request):
    try:
        version = model_version_rollback(by=request.user)
    except VersionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rolled back: {version.name} serves learners again.")
    return redirect("models_page")
