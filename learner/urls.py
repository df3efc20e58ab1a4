from django.urls import path

from learner import views

urlpatterns = [
    path("learn/<slug:slug>/map/", views.map_view, name="knowledge_map"),
    path("learn/<slug:slug>/progress/", views.progress_view, name="learner_progress"),
    path("teach/courses/<slug:slug>/learners/", views.insights_view, name="course_insights"),
    path("teach/courses/<slug:slug>/learners/recalibrate/", views.recalibrate, name="course_recalibrate"),
]
