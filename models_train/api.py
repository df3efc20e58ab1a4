"""What other apps may ask of the tutor-model side."""

from models_train.models import ModelVersion


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
