"""A task enqueued from a view runs in a real worker process and writes to the database."""

import pytest
from django.urls import reverse

from tests.conftest import wait_for
from tutor.models import WorkerCheck

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("queue", ["default", "gpu"])
def test_worker_check_round_trip(client, make_user, celery_worker_process, queue):
    client.force_login(make_user("admin"))
    response = client.post(reverse("worker_check_create"), {"queue": queue})
    assert response.status_code == 302
    check = WorkerCheck.objects.get()
    assert check.queue == queue

    def done():
        check.refresh_from_db()
        return check.status == WorkerCheck.Status.DONE

    assert wait_for(done), f"the worker never completed the check; status {check.status}"
    # Written by the worker process, not by this one.
    assert check.worker_hostname.startswith("test-")
    assert check.finished_at >= check.requested_at


def test_htmx_request_gets_only_the_fragment(client, make_user, celery_worker_process):
    client.force_login(make_user("admin"))
    response = client.post(
        reverse("worker_check_create"), {"queue": "default"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="worker-checks"') and "<html" not in html
