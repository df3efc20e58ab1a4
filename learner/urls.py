from django.urls import path

from learner import views

urlpatterns = [
    path("learn/<slug:slug>/map/", views.map_view, name="knowledge_map"),
    path("learn/<slug:slug>/map/<slug:concept>/already-know/", views.already_know, name="already_know"),
    path("teach/courses/<slug:slug>/learners/", views.insights_view, name="course_insights"),
    path("teach/courses/<slug:slug>/learners/recalibrate/", views.recalibrate, name="course_recalibrate"),
]
