from django.apps import AppConfig


class LearnerConfig(AppConfig):
    """The learner's knowledge model: response log, state, placement, review."""

    name = "learner"
    default_auto_field = "django.db.models.BigAutoField"
