from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People and their roles: learner, educator, admin."""

    name = "core.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
