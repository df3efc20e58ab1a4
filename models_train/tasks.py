"""The tutor model's Celery tasks: training on the `gpu` queue, the watch for lost runs on
`default`, and the check a gpu worker makes when it starts.

    celery -A tutor worker -Q gpu -c 1 -n gpu@%h     # runs run_training; resumes its lost runs
    celery -A tutor worker -Q default -B             # the beat schedules watch_training_runs
"""

import logging

from celery import shared_task
from celery.signals import worker_ready

from models_train.training import training_run_execute, training_runs_watch

logger = logging.getLogger(__name__)


# Routed to the `gpu` queue (settings.CELERY_TASK_ROUTES): one training per GPU box.
@shared_task(bind=True)
def run_training(self, run_id: int) -> None:
    training_run_execute(run_id=run_id, worker=self.request.hostname or "")


# On `default` (settings.CELERY_TASK_ROUTES): the gpu workers may be the ones that died.
@shared_task
def watch_training_runs() -> None:
    training_runs_watch()


@worker_ready.connect
def resume_runs_of_a_restarted_gpu_worker(sender, **kwargs) -> None:
    """A gpu worker that starts runs nothing yet: a run that says it is running on this
    worker's name lost its worker (killed with its task still unacknowledged), and is queued
    again at once rather than after the heartbeat goes silent."""
    if "gpu" not in sender.app.amqp.queues.consume_from:
        return
    for run in training_runs_watch(restarted_worker=sender.hostname):
        logger.warning("training run %s lost its worker %s; queued again to resume", run.pk, run.lost_worker)
