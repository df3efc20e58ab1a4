from django.urls import path

from models_train import views

urlpatterns = [
    path("system/models/", views.models_page, name="models_page"),
    path("system/models/train/", views.training_start, name="training_start"),
    path("system/models/runs/<int:pk>/cancel/", views.training_cancel, name="training_cancel"),
    path("system/models/rollback/", views.version_rollback, name="version_rollback"),
    path("system/models/<int:pk>/promote/", views.version_promote, name="version_promote"),
]
