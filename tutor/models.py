from django.conf import settings
from django.db import models


class WorkerCheck(models.Model):
    """An admin's round trip through the broker to a worker and back into the database.

    It proves the whole background path works (web → broker → worker → database), which a
    broker ping alone does not.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    queue = models.CharField(max_length=32, default="default")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    worker_hostname = models.CharField(max_length=255, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"worker check {self.pk} on {self.queue}: {self.status}"
