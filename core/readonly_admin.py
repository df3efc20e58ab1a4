"""Admin pages an operator reads but doesn't edit: changes to these rows go through the
app's own pages and services, which check them and record who did what (publishing runs the
ramp checks, promotion passes the eval gate, the response log is append-only)."""

from django.contrib import admin


class _NoChanges:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_NoChanges, admin.ModelAdmin):
    pass


class ReadOnlyInline(_NoChanges, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or ()
