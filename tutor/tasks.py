from celery import shared_task

from courses.models import Course
from tutor.conversations import conversations_export
from tutor.practice_pool import pool_courses, pool_refill
from tutor.speaking import tutor_message_speak as speak
from tutor.worker_checks import worker_check_complete


@shared_task(bind=True)
def worker_check_run(self, check_id: int) -> None:
    worker_check_complete(check_id=check_id, hostname=self.request.hostname or "")


# Routed to the `tutor` queue (settings.CELERY_TASK_ROUTES). Not retried: a message is only
# worth writing while its learner is looking at the page; after that the authored text stands.
@shared_task(acks_late=False)
def tutor_message_speak(message_id: int) -> None:
    speak(message_id=message_id)


# On the `tutor` queue: it needs the model.
@shared_task
def practice_pool_refill(course_id: int) -> None:
    pool_refill(course=Course.objects.get(pk=course_id))


@shared_task
def practice_pool_refill_all() -> None:
    for course_id in pool_courses():
        practice_pool_refill.delay(course_id)


@shared_task
def export_conversations() -> None:
    conversations_export()
