"""Home, the role dashboards and the health endpoint. Thin: logic lives in services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.accounts.models import Role
from core.accounts.permissions import admin_required, educator_required
from courses.forms import CourseCreateForm, RampUploadForm
from courses.selectors import courses_editable_by, courses_published
from learner.models import Enrollment
from tutor.health import public_health, system_health
from tutor.worker_checks import worker_check_request, worker_checks_recent
from tutor.worker_presence import HEARTBEAT_SECONDS, STALE_SECONDS


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return render(request, "tutor/landing.html")
    if request.user.role == Role.ADMIN:
        return redirect("admin_dashboard")
    if request.user.role == Role.EDUCATOR:
        return redirect("educator_dashboard")
    return redirect("learner_dashboard")


@require_GET
@login_required
def learner_dashboard(request):
    enrollments = {e.course_id: e for e in Enrollment.objects.filter(user=request.user)}
    courses = [
        {"course": course, "enrollment": enrollments.get(course.pk)}
        for course in courses_published().prefetch_related("concepts")
    ]
    return render(request, "tutor/learner_dashboard.html", {"courses": courses})


@require_GET
@educator_required
def educator_dashboard(request):
    context = {
        "courses": courses_editable_by(user=request.user).prefetch_related("owners"),
        "create_form": CourseCreateForm(),
        "upload_form": RampUploadForm(),
    }
    return render(request, "tutor/educator_dashboard.html", context)


@require_GET
@admin_required
def admin_dashboard(request):
    template = "tutor/admin_dashboard.html"
    if request.htmx:
        template += "#worker-checks"
    context = _worker_checks_context()
    if not request.htmx:
        context["health"] = system_health()
        context["heartbeat_seconds"], context["stale_seconds"] = HEARTBEAT_SECONDS, STALE_SECONDS
    return render(request, template, context)


def _worker_checks_context() -> dict:
    checks = list(worker_checks_recent())
    # The list polls itself only while a check is still on its way.
    return {"checks": checks, "polling": any(c.status == c.Status.QUEUED for c in checks)}


@require_POST
@admin_required
def worker_check_create(request):
    queue = request.POST.get("queue", "default")
    try:
        worker_check_request(user=request.user, queue=queue)
    except ValueError as error:
        messages.error(request, str(error))
    if request.htmx:
        return render(request, "tutor/admin_dashboard.html#worker-checks", _worker_checks_context())
    return redirect("admin_dashboard")


@require_GET
@never_cache
def livez(request):
    """Liveness: the process answers, nothing else is checked (a load balancer's probe, and
    the load benchmark's baseline: the cheapest request Django serves)."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@never_cache
def healthz(request):
    """200 when the database, the broker and a worker on every queue are up, else 503. Anyone
    learns that and which parts fail (answered from a cache refreshed every few seconds); the
    details (worker hosts, the database, timings, the model) only an admin."""
    if request.user.is_authenticated and request.user.has_role(Role.ADMIN):
        report = system_health()
    else:
        report = public_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
