from django.contrib import admin
from django.urls import include, path

from tutor import views

urlpatterns = [
    path("", views.home, name="home"),
    path("learn/", views.learner_dashboard, name="learner_dashboard"),
    path("teach/", views.educator_dashboard, name="educator_dashboard"),
    path("teach/", include("courses.urls")),
    path("system/", views.admin_dashboard, name="admin_dashboard"),
    path("system/worker-checks/", views.worker_check_create, name="worker_check_create"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("tutor.accounts.urls")),
    path("django-admin/", admin.site.urls),
]
