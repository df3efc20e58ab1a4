"""Training runs and model versions in Django's admin, read only: runs are started and
cancelled, and versions promoted or rolled back, on /system/models/, where the eval gate and
the record of who switched what apply."""

from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin, ReadOnlyInline
from models_train.models import ModelVersion, ModelVersionChange, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "preset",
        "status",
        "requested_by",
        "created_at",
        "finished_at",
        "attempts",
        "version",
    )
    list_filter = ("status", "preset")
    search_fields = ("worker", "error", "requested_by__username")
    list_select_related = ("requested_by", "version")


class ModelVersionChangeInline(ReadOnlyInline):
    model = ModelVersionChange
    fk_name = "version"
    fields = ("kind", "at", "by", "previous", "below_gate", "reason", "failed_checks")


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "created_at", "promoted_at", "checkpoint_path")
    list_filter = ("status",)
    search_fields = ("name",)
    inlines = (ModelVersionChangeInline,)
