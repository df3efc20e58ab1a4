from celery import shared_task

from models_train.training import training_run_execute


# Routed to the `gpu` queue (settings.CELERY_TASK_ROUTES): one training per GPU box.
@shared_task(bind=True)
def run_training(self, run_id: int) -> None:
    training_run_execute(run_id=run_id, worker=self.request.hostname or "")
