"""Courses in Django's admin: find a course, see its concepts and items (with every version
of an item), hand a course to other educators, take a broken one offline. Everything else
about a course is edited on the educator pages (/teach/), where the ramp checks run."""

from django.contrib import admin, messages

from core.accounts.models import Role, User
from core.readonly_admin import ReadOnlyAdmin, ReadOnlyInline
from courses.models import Concept, Course, Item, ItemVersion
from courses.services import course_unpublish


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "status", "version", "language", "updated_at", "published_at")
    list_filter = ("status", "language")
    search_fields = ("slug", "title", "owners__username")
    fields = (
        "slug",
        "title",
        "summary",
        "language",
        "version",
        "target_success",
        "mastery_threshold",
        "status",
        "published_at",
        "created_at",
        "updated_at",
        "owners",
    )
    # Only the owners are edited here; publishing goes through the ramp checks on /teach/.
    readonly_fields = fields[:-1]
    filter_horizontal = ("owners",)
    actions = ("unpublish",)

    def has_add_permission(self, request):
        return False  # imported from ramp files or created on /teach/

    def has_delete_permission(self, request, obj=None):
        return False  # learners' history points at it: unpublish instead

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "owners":
            kwargs["queryset"] = User.objects.filter(role__in=[Role.EDUCATOR, Role.ADMIN]).order_by(
                "username"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.action(description="Unpublish (learners no longer see it; nothing is deleted)")
    def unpublish(self, request, queryset):
        for course in queryset:
            course_unpublish(course=course)
        messages.success(request, f"Unpublished {queryset.count()} course(s).")


@admin.register(Concept)
class ConceptAdmin(ReadOnlyAdmin):
    list_display = ("title", "slug", "course", "position", "retired_at")
    list_filter = ("course",)
    search_fields = ("slug", "title", "course__slug")
    list_select_related = ("course",)


class ItemVersionInline(ReadOnlyInline):
    model = ItemVersion
    fields = ("number", "created_at", "spec")
    ordering = ("-number",)


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "type", "difficulty_prior", "difficulty", "is_template", "retired_at")
    list_filter = ("type", "is_template", "concept__course")
    search_fields = ("slug", "concept__slug", "concept__course__slug")
    list_select_related = ("concept",)
    inlines = (ItemVersionInline,)
