"""Role checks for views. A signed-in user without the role gets 403, never a redirect loop."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(role: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(role):
                raise PermissionDenied(f"This page is for {role}s.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


educator_required = role_required("educator")
admin_required = role_required("admin")
