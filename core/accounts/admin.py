from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from core.accounts.models import User
from core.accounts.services import user_set_role


@admin.register(User)
class RampUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Ramp", {"fields": ("role",)}),)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "role" in form.changed_data:
            # The role decides staff access too; keep them in step.
            user_set_role(user=obj, role=obj.role)
