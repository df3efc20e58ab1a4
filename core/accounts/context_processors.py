"""Role-aware navigation: each role sees the links it can use, nothing it would get 403 on."""

from django.urls import reverse

from core.accounts.models import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [("Home", reverse("home"))]
    if user.has_role(Role.EDUCATOR):
        links.append(("Teach", reverse("educator_dashboard")))
        links.append(("Ramp format", reverse("format_guide")))
    if user.has_role(Role.ADMIN):
        links.append(("Admin", reverse("admin_dashboard")))
    return {"nav_links": links}
