"""Ramp: the Django project and the tutoring loop.

The Celery app is imported here so that `@shared_task` binds to it in every process.
"""

from tutor.celery import app as celery_app

__all__ = ("celery_app",)
