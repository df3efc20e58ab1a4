import logging

from celery import shared_task

from courses.models import Course
from learner.calibration import CalibrationSkipped, calibration_run

log = logging.getLogger(__name__)


@shared_task
def calibrate_course(course_id: int) -> None:
    try:
        calibration_run(course=Course.objects.get(pk=course_id))
    except CalibrationSkipped as reason:
        log.info("calibration skipped: %s", reason)


@shared_task
def calibrate_all_courses() -> None:
    for course_id in Course.objects.filter(status=Course.Status.PUBLISHED).values_list("id", flat=True):
        calibrate_course.delay(course_id)
