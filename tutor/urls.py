from django.contrib import admin
from django.urls import include, path

from tutor import study_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("learn/", views.learner_dashboard, name="learner_dashboard"),
    path("learn/<slug:slug>/", study_views.study, name="study"),
    path("learn/<slug:slug>/answer/", study_views.answer, name="study_answer"),
    path("learn/<slug:slug>/hint/", study_views.hint, name="study_hint"),
    path("learn/<slug:slug>/solution/", study_views.solution, name="study_solution"),
    path("learn/<slug:slug>/map/<slug:concept>/already-know/", study_views.already_know, name="already_know"),
    path("", include("learner.urls")),
    path("", include("models_train.urls")),
    path("teach/", views.educator_dashboard, name="educator_dashboard"),
    path("teach/", include("courses.urls")),
    path("system/", views.admin_dashboard, name="admin_dashboard"),
    path("system/worker-checks/", views.worker_check_create, name="worker_check_create"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("core.accounts.urls")),
    path("django-admin/", admin.site.urls),
]
