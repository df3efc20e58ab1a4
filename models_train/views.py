"""Admin pages for the tutor model: versions (promote, roll back) and training runs."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.accounts.permissions import admin_required
from models_train.models import ModelVersion, TrainingRun
from models_train.training import training_run_active, training_run_request
from models_train.versions import VersionError, model_version_promote, model_version_rollback, model_versions


def _runs_context() -> dict:
    runs = list(TrainingRun.objects.select_related("version", "requested_by")[:10])
    return {
        "runs": runs,
        "polling": any(r.status in (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING) for r in runs),
    }


@require_GET
@admin_required
def models_page(request):
    template = "models_train/models.html"
    if request.htmx:
        return render(request, template + "#runs", _runs_context())
    context = {"versions": model_versions(), "presets": TrainingRun.Preset.choices, **_runs_context()}
    return render(request, template, context)


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
    except ValueError as error:
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
def version_promote(request, pk):
    version = get_object_or_404(ModelVersion, pk=pk)
    model_version_promote(version=version)
    messages.success(request, f"{version.name} now serves learners.")
    return redirect("models_page")


@require_POST
@admin_required
def version_rollback(request):
    try:
        version = model_version_rollback()
    except VersionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rolled back: {version.name} serves learners again.")
    return redirect("models_page")
