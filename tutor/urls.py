from django.contrib import admin
from django.urls import include, path

from tutor import oversight_views, speaking_views, study_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("learn/", views.learner_dashboard, name="learner_dashboard"),
    path("learn/<slug:slug>/", study_views.study, name="study"),
    path("learn/<slug:slug>/start/", study_views.start, name="study_start"),
    path("learn/<slug:slug>/continue/", study_views.continue_, name="study_continue"),
    path("learn/<slug:slug>/answer/", study_views.answer, name="study_answer"),
    path("learn/<slug:slug>/hint/", study_views.hint, name="study_hint"),
    path("learn/<slug:slug>/solution/", study_views.solution, name="study_solution"),
    path("learn/<slug:slug>/map/<slug:concept>/already-know/", study_views.already_know, name="already_know"),
    path("learn/<slug:slug>/step/", study_views.step_fragment, name="study_step"),
    path("learn/<slug:slug>/explain/", speaking_views.explain, name="study_explain"),
    path("learn/<slug:slug>/tutor/<int:pk>/", speaking_views.message_view, name="tutor_message"),
    path(
        "learn/<slug:slug>/tutor/<int:pk>/stream/", speaking_views.message_stream, name="tutor_message_stream"
    ),
    path("learn/<slug:slug>/tutor/<int:pk>/reply/", speaking_views.message_reply, name="tutor_message_reply"),
    path("learn/<slug:slug>/tutor/<int:pk>/rate/", speaking_views.message_rate, name="tutor_message_rate"),
    path("learn/<slug:slug>/ask/", speaking_views.chat_panel, name="tutor_chat"),
    path("learn/<slug:slug>/ask/send/", speaking_views.chat_ask, name="tutor_chat_ask"),
    path("learn/<slug:slug>/ask/<int:pk>/forget/", speaking_views.chat_forget, name="tutor_chat_forget"),
    path("learn/<slug:slug>/ask/sharing/", speaking_views.chat_consent, name="tutor_chat_consent"),
    path("", include("learner.urls")),
    path("", include("models_train.urls")),
    path("teach/", views.educator_dashboard, name="educator_dashboard"),
    path("teach/", include("courses.urls")),
    path("teach/courses/<slug:slug>/questions/", oversight_views.questions_view, name="course_questions"),
    path("system/", views.admin_dashboard, name="admin_dashboard"),
    path("system/tutor-voice/", oversight_views.tutor_voice, name="tutor_voice"),
    path("system/worker-checks/", views.worker_check_create, name="worker_check_create"),
    path("healthz", views.healthz, name="healthz"),
    path("livez", views.livez, name="livez"),
    path("accounts/", include("core.accounts.urls")),
    path("django-admin/", admin.site.urls),
]
