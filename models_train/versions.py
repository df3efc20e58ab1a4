"""Tutor model versions: register a trained checkpoint, promote one, roll back.

Promotion is one atomic switch (the partial unique constraint allows one active version),
so every process that looks up the active version sees either the old or the new one.
A version whose report fails the eval gate (models_train/gate.py) is promoted only with a
reason; every switch writes a ModelVersionChange (who, when, why, the checks it failed).

    python manage.py shell -c "from models_train.versions import *; \\
        model_version_promote(version=ModelVersion.objects.get(name='tutor-3-...'), \\
        override_reason='the GPU eval runs tomorrow')"
"""

from django.db import transaction
from django.utils import timezone

from models_train.gate import Check, gate_failures
from models_train.models import ModelVersion, ModelVersionChange


class VersionError(ValueError):
    pass


class BelowGate(VersionError):
    """The version fails the eval gate and no reason to promote it anyway was given."""

    def __init__(self, failed: list[Check]):
        self.failed = failed
        names = "; ".join(f"{c.threshold.label}: {c.status}" for c in failed)
        super().__init__(f"Below the eval gate ({names}). Give a reason to promote it anyway.")


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


def _record(*, kind, version, previous, by, reason="", failed=()) -> ModelVersionChange:
    change = ModelVersionChange(
        kind=kind,
        version=version,
        previous=previous,
        by=by,
        below_gate=bool(failed),
        reason=reason,
        failed_checks=[c.as_dict() for c in failed],
    )
    change.full_clean()
    change.save()
    return change


@transaction.atomic
def model_version_promote(*, version: ModelVersion, by=None, override_reason: str = "") -> ModelVersion:
    """Make `version` the one that serves learners. Below the gate it needs `override_reason`
    (BelowGate otherwise); `by` is the admin (None: Ramp itself)."""
    reason = override_reason.strip()
    failed = gate_failures(version.metrics)
    if failed and not reason:
        raise BelowGate(failed)
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    if current is not None and current.pk == version.pk:
        return version
    if current is not None:
        current.status = ModelVersion.Status.RETIRED
        current.save(update_fields=["status"])
    version.status = ModelVersion.Status.ACTIVE
    version.promoted_at = timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    _record(
        kind=ModelVersionChange.Kind.PROMOTE,
        version=version,
        previous=current,
        by=by,
        reason=reason,
        failed=failed,
    )
    return version


def model_version_rollback_target() -> ModelVersion | None:
    """The version a roll back would restore: the one that served before the active one."""
    return (
        ModelVersion.objects.filter(status=ModelVersion.Status.RETIRED, promoted_at__isnull=False)
        .order_by("-promoted_at", "-id")
        .first()
    )


@transaction.atomic
def model_version_rollback(*, by=None) -> ModelVersion:
    """Make the version that was active before the current one active again. It served
    learners before, so the gate does not stand in the way of going back to it."""
    current = ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE).first()
    previous = model_version_rollback_target()
    if previous is None:
        raise VersionError("There is no earlier version to roll back to.")
    if current is not None:
        current.status = ModelVersion.Status.CANDIDATE
        current.save(update_fields=["status"])
    previous.status = ModelVersion.Status.ACTIVE
    previous.promoted_at = timezone.now()
    previous.save(update_fields=["status", "promoted_at"])
    _record(kind=ModelVersionChange.Kind.ROLLBACK, version=previous, previous=current, by=by)
    return previous


def model_versions():
    return ModelVersion.objects.all()


def model_version_changes(*, limit: int = 10):
    return ModelVersionChange.objects.select_related("version", "previous", "by")[:limit]
