from django.db import models


class ModelVersion(models.Model):
    """A trained tutor model that can serve learners: a checkpoint in the model store.

    At most one version is active at a time (enforced by a partial unique constraint), so
    promotion is a single atomic switch.
    """

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    checkpoint_path = models.CharField(max_length=500, help_text="Folder in the model store.")
    tokenizer_id = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="one_active_model_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ModelVersionChange(models.Model):
    """Who switched the version that serves learners, when and why (one row per switch).

    A promotion below the eval gate (models_train/gate.py) carries the admin's reason and
    the checks it failed at that moment; `by` is empty when Ramp itself switched (the
    first version of a fresh install, so learners have a tutor at all).
    """

    class Kind(models.TextChoices):
        PROMOTE = "promote", "Promoted"
        ROLLBACK = "rollback", "Rolled back"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="changes")
    previous = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    below_gate = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    failed_checks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version.name}"


class TrainingRun(models.Model):
    """One training of the tutor model on a `gpu` worker, from request to candidate version.

    While it runs, its worker writes `heartbeat_at` and `progress` every few seconds
    (stage, steps, tokens, loss curves, log tail; models_train/run_progress.py). A run
    whose heartbeat stops is taken for lost (its worker died): `lost_at` records it, the run
    goes back to queued and the next attempt resumes from its checkpoints.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Preset(models.TextChoices):
        DEFAULT = "default", "Default tutor (a few minutes on CPU)"
        QUICK = "quick", "Smoke test (under a minute, not for learners)"

    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.DEFAULT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    out_dir = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    process = models.CharField(max_length=300, blank=True, help_text="host:pid of the attempt's process.")
    attempts = models.PositiveSmallIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    options = models.JSONField(
        default=dict, blank=True, help_text="Size options over the preset (default_training.SIZE_OPTIONS)."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    lost_worker = models.CharField(max_length=255, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"training run {self.pk} ({self.status})"
