"""The response log in Django's admin, to look up what a learner answered (support, a
disputed grade). Read only: the log is append-only, and a learner's state is derived from it."""

from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin
from learner.models import Response


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "user",
        "course",
        "concept",
        "item",
        "kind",
        "outcome",
        "misconception",
        "hints_used",
        "time_taken_ms",
    )
    list_filter = ("outcome", "kind", "enrollment__course")
    search_fields = ("user__username", "item__slug", "concept__slug", "misconception")
    list_select_related = ("user", "concept", "item", "enrollment__course")
    date_hierarchy = "created_at"
    show_full_result_count = False  # a count of the whole log on every page is slow
    ordering = ("-created_at", "-id")

    @admin.display(ordering="enrollment__course__slug")
    def course(self, response: Response):
        return response.enrollment.course.slug
