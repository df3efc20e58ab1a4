from celery import shared_task

from tutor.worker_checks import worker_check_complete


@shared_task(bind=True)
def worker_check_run(self, check_id: int) -> None:
    worker_check_complete(check_id=check_id, hostname=self.request.hostname or "")


# Routed to the `tutor` queue (settings.CELERY_TASK_ROUTES). Not retried: a message is only
# worth writing while its learner is looking at the page; after that the authored text stands.
@shared_task(acks_late=False)
def tutor_message_speak(message_id: int) -> None:
    from tutor.speaking import tutor_message_speak as speak

    speak(message_id=message_id)
