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
