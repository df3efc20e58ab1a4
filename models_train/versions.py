"""Tutor model versions: register a trained checkpoint, promote one, roll back.

Promotion is one atomic switch (the partial unique constraint allows one active version),
so every process that looks up the active version sees either the old or the new one.
"""

from django.db import transaction
from django.utils import timezone

from models_train.models import ModelVersion


class VersionError(ValueError):
    pass


@transaction.atomic
def model_version_register(
    *, name: str, checkpoint_path: str, tokenizer_id: str = "", metrics: dict | None = None
) -> ModelVersion:
    version = ModelVersion(
        name=name, checkpoint_path=checkpoint_path, tokenizer_id=tokenizer_id, metrics=metrics or {}
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def model_version_promote(*, version: ModelVersion) -> ModelVersion:
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    if current is not None and current.pk == version.pk:
        return version
    if current is not None:
        current.status = ModelVersion.Status.RETIRED
        current.save(update_fields=["status"])
    version.status = ModelVersion.Status.ACTIVE
    version.promoted_at = timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    return version


@transaction.atomic
def model_version_rollback() -> ModelVersion:
    """Make the version that was active before the current one active again."""
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    previous = (
        ModelVersion.objects.filter(status=ModelVersion.Status.RETIRED, promoted_at__isnull=False)
        .order_by("-promoted_at")
        .first()
    )
    if previous is None:
        raise VersionError("There is no earlier version to roll back to.")
    if current is not None:
        current.status = ModelVersion.Status.CANDIDATE
        current.save(update_fields=["status"])
    previous.status = ModelVersion.Status.ACTIVE
    previous.promoted_at = timezone.now()
    previous.save(update_fields=["status", "promoted_at"])
    return previous


def model_versions():
    return ModelVersion.objects.all()
