"""Publishing a Celery task for a row that is being created: after the commit, never raising.

A task that names a row must be published only once the row is committed (a worker could
otherwise look for it first), and a broker that can't be reached must not turn a request into
a server error: the row records why instead, and the page shows it.

Tasks are named, not imported: a task module imports the service it calls, so a service that
imported its task module back would make a cycle.
"""

from collections.abc import Callable, Sequence

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError


def publish_after_commit(
    task_name: str, *, args: Sequence, queue: str, on_broker_down: Callable[[str], None]
) -> None:
    """Publish the task registered as ``task_name`` (e.g. ``"tutor.tasks.worker_check_run"``)
    with ``args`` on ``queue`` when the current transaction commits; if the broker can't be
    reached, call ``on_broker_down(reason)`` (e.g. mark the row failed)."""

    def publish() -> None:
        try:
            current_app.send_task(task_name, args=list(args), queue=queue)
        except OperationalError as error:
            on_broker_down(f"The broker could not be reached: {error}")

    transaction.on_commit(publish)
