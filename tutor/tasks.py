from celery import shared_task

from tutor.worker_checks import worker_check_complete


@shared_task(bind=True)
def worker_check_run(self, check_id: int) -> None:
    worker_check_complete(check_id=check_id, hostname=self.request.hostname or "")
