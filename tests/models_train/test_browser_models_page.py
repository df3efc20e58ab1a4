"""The admin's tutor-model page in a real browser under the strict CSP: the loss curves draw
with no script, htmx polling moves the run on, an override below the gate goes through the
form with a reason, and cancel asks the run to stop."""

import time

import pytest
from django.utils import timezone

from models_train.models import ModelVersion, TrainingRun
from models_train.run_progress import Heartbeat
from models_train.versions import model_version_promote, model_version_register
from tests.conftest import screenshot
from tests.core.test_browser_accounts import log_in, real_errors

from .test_run_progress import Clock, a_default_run_at_sft_step, feed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_follows_a_run_and_promotes_below_the_gate(page, live_server, make_user, settings):
    settings.RAMP_PROMOTION_GATE = [("serving.mistake.served_share", ">=", 0.8, "mistake replies served")]
    admin = make_user("admin")
    good = {"serving": {"mistake": {"served_share": 0.9}}, "val_bpb": 1.36, "params": 2_899_968}
    model_version_promote(
        version=model_version_register(name="tutor-1", checkpoint_path="/s/1", metrics=good)
    )
    weak = model_version_register(name="tutor-2", checkpoint_path="/s/2", metrics={"val_bpb": 1.31})
    now = timezone.now()
    run = TrainingRun.objects.create(
        status="running", worker="gpu@box", attempts=1, started_at=now, heartbeat_at=now
    )
    clock = Clock(time.time() - 300)
    progress = a_default_run_at_sft_step(200, clock)
    progress.log("step   200/1000 | loss 1.2000")
    heartbeat = Heartbeat(run_id=run.pk, attempt=1, progress=progress, interval=5)
    heartbeat.beat()

    log_in(page, live_server.url, admin.username)
    page.goto(live_server.url + "/system/models/")
    assert page.locator("svg.loss-chart").count() == 2
    assert page.locator("svg.loss-chart polyline.validation").first.is_visible()
    assert page.get_by_text("200 / 1000").is_visible()
    # what learners read of each version, loaded into the page
    page.get_by_text("The tutor hasn't spoken to any learner yet.").wait_for()

    feed(progress, clock, "sft", 200, 300, 1000, eval_every=50, start=False)  # the worker moves on
    heartbeat.beat()
    page.get_by_text("300 / 1000").wait_for(timeout=10_000)  # htmx polls every 3 s
    assert page.get_by_text("Resumed").count() == 0
    screenshot(page, "models-page-running")

    page.get_by_text("Promote below the gate…").click()
    page.get_by_label("Why promote it anyway? Recorded with your name.").fill(
        "better bits per byte; serving eval pending"
    )
    page.get_by_role("button", name="Promote below the gate").click()
    page.get_by_text("tutor-2 now serves learners.").wait_for()
    assert ModelVersion.objects.get(pk=weak.pk).status == "active"
    assert page.get_by_text("better bits per byte; serving eval pending").is_visible()
    assert page.get_by_role("button", name="Roll back to tutor-1").is_visible()

    page.get_by_role("button", name=f"Cancel run {run.pk}").click()
    page.get_by_text(f"Run {run.pk} stops at its next step.").wait_for()
    assert page.get_by_text("Cancelling: waiting for gpu@box").is_visible()
    screenshot(page, "models-page-cancelling")
    assert real_errors(page) == []
