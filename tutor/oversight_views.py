"""What admins and educators see of the tutor's words: per model version for admins, the
questions learners asked (anonymised, shared by choice) per concept for a course's educators."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.accounts.permissions import admin_required, educator_required
from courses.selectors import course_for_editor
from tutor.models import TutorMessage
from tutor.speaking_selectors import course_questions, version_voice


@require_GET
@admin_required
def tutor_voice(request):
    """Per model version: how often learners read its words, why not, and their ratings."""
    template = "tutor/tutor_voice.html"
    if request.htmx:
        template += "#voice"
    context = {"versions": version_voice(), "ratings": TutorMessage.Rating.choices}
    return render(request, template, context)


@require_GET
@educator_required
def questions_view(request, slug):
    """The questions learners asked the tutor about each concept: where the material is unclear."""
    course = course_for_editor(user=request.user, slug=slug)
    return render(
        request,
        "tutor/course_questions.html",
        {"course": course, "concepts": course_questions(course=course)},
    )
