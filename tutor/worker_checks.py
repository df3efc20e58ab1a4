"""Worker checks: an admin asks a worker on a queue to write back into the database."""

from django.db import transaction
from django.utils import timezone

from core.publishing import publish_after_commit
from tutor.models import WorkerCheck

QUEUES = ("default", "gpu", "tutor")


def worker_check_request(*, user, queue: str = "default") -> WorkerCheck:
    """Record the check and publish its task once the row is committed.

    If the broker cannot be reached the check is marked failed with the reason, rather
    than the page erroring: the admin learns exactly what is down.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")
    with transaction.atomic():
        check = WorkerCheck.objects.create(queue=queue, requested_by=user)
        publish_after_commit(
            "tutor.tasks.worker_check_run",
            args=[check.pk],
            queue=queue,
            on_broker_down=lambda reason: WorkerCheck.objects.filter(pk=check.pk).update(
                status=WorkerCheck.Status.FAILED, finished_at=timezone.now(), detail=reason
            ),
        )
    return check


def worker_check_complete(*, check_id: int, hostname: str) -> WorkerCheck:
    check = WorkerCheck.objects.get(pk=check_id)
    check.status = WorkerCheck.Status.DONE
    check.worker_hostname = hostname
    check.finished_at = timezone.now()
    check.save(update_fields=["status", "worker_hostname", "finished_at"])
    return check


def worker_checks_recent(*, limit: int = 10):
    return WorkerCheck.objects.select_related("requested_by")[:limit]
