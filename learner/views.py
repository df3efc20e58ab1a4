"""The learner's knowledge map and progress (only the learner sees their own) and the
educator's view of where a course's learners get stuck."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from kombu.exceptions import OperationalError

from core.accounts.permissions import educator_required
from courses.selectors import course_for_editor
from learner.calibration import MIN_RESPONSES
from learner.insights import course_insights
from learner.progress import learner_progress
from learner.selectors import enrollment_of_learner_or_404, knowledge_map
from learner.tasks import calibrate_course


@require_GET
@login_required
def map_view(request, slug):
    enrollment = enrollment_of_learner_or_404(user=request.user, slug=slug)
    context = {"course": enrollment.course, "enrollment": enrollment, **knowledge_map(enrollment=enrollment)}
    return render(request, "learner/knowledge_map.html", context)


@require_GET
@login_required
def progress_view(request, slug):
    enrollment = enrollment_of_learner_or_404(user=request.user, slug=slug)
    context = {
        "course": enrollment.course,
        "enrollment": enrollment,
        **learner_progress(enrollment=enrollment),
    }
    return render(request, "learner/progress.html", context)


@require_GET
@educator_required
def insights_view(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    calibration = course.calibrations.first()
    context = {
        "course": course,
        "calibration": calibration,
        "min_responses": MIN_RESPONSES,
        **course_insights(course=course),
    }
    return render(request, "learner/insights.html", context)


@require_POST
@educator_required
def recalibrate(request, slug):
    course = course_for_editor(user=request.user, slug=slug)
    transaction.on_commit(lambda: _enqueue_calibration(request, course))
    return redirect("course_insights", slug=course.slug)


def _enqueue_calibration(request, course) -> None:
    try:
        calibrate_course.delay(course.pk)
        messages.success(
            request, "Recalibration started: the new estimates appear here when the worker has finished."
        )
    except OperationalError:
        messages.error(
            request,
            "The task queue can't be reached right now, so recalibration could not start. Try again later.",
        )
