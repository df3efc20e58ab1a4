"""The Celery app: queues `default` (web-side jobs), `gpu` (training, one per GPU box) and
`tutor` (the tutor model writing learners' messages and practice questions).

Run a worker (the run command starts one for you):
    celery -A tutor worker -Q default,gpu --concurrency 1 --loglevel INFO
On a GPU box, only the gpu queue, one task at a time:
    celery -A tutor worker -Q gpu --concurrency 1 --hostname gpu@%h
"""

import os

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from kombu import Exchange, Queue

from tutor.env import EnvError, exit_on_env_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")

app = Celery("tutor")
try:
    # Read the settings now so a bad environment stops a worker with one line.
    from django.conf import settings

    settings.CELERY_BROKER_URL  # noqa: B018
except EnvError as error:
    exit_on_env_error(error)
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own exchange and key, so a worker started with `-Q gpu` can never be
# handed a web-side job (and vice versa).
app.conf.task_queues = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name) for name in ("default", "gpu", "tutor")
)
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.autodiscover_tasks()


# Each worker says every few seconds that it is up and which queues it consumes, which is
# what /healthz reads (tutor/worker_presence.py).
@worker_ready.connect
def _worker_ready(sender=None, **kwargs):
    from tutor.worker_presence import on_worker_ready

    on_worker_ready(sender=sender)


@worker_shutdown.connect
def _worker_shutdown(sender=None, **kwargs):
    from tutor.worker_presence import on_worker_shutdown

    on_worker_shutdown(sender=sender)
