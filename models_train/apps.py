from django.apps import AppConfig


class ModelsTrainConfig(AppConfig):
    """The Django side of the tutor model: training runs, model versions, gpu tasks.

    The plain-PyTorch modules beside this file never import Django; only apps.py,
    models.py, api.py, tasks.py, views and the management commands do.
    """

    name = "models_train"
    verbose_name = "Tutor model"
    default_auto_field = "django.db.models.BigAutoField"
