from django.apps import AppConfig


class CoursesConfig(AppConfig):
    """Ramps: courses, concepts (a prerequisite DAG), material, items, checkers."""

    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"
