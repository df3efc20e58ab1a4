"""The Celery app: queues `default` (web-side jobs) and `gpu` (training, one per GPU box).

Run a worker (the run command starts one for you):
    celery -A tutor worker -Q default,gpu --concurrency 1 --loglevel INFO
On a GPU box, only the gpu queue, one task at a time:
    celery -A tutor worker -Q gpu --concurrency 1 --hostname gpu@%h
"""

import os

from celery import Celery
from kombu import Queue

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
app.conf.task_queues = (Queue("default"), Queue("gpu"))
app.autodiscover_tasks()
