from django.apps import AppConfig


class TutorConfig(AppConfig):
    """The tutoring loop (study, chat, policy, generation) and system pages."""

    name = "tutor"
    default_auto_field = "django.db.models.BigAutoField"
