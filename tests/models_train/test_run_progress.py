"""A run's live progress: trainer events folded into the run's row by a heartbeat, and the
admin page (and its htmx fragment) drawing stage, step of total, tokens, ETA, the loss
curves as inline SVG and the log tail, all escaped."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from models_train.default_training import default_tutor_plan
from models_train.models import TrainingRun
from models_train.run_panel import loss_chart
from models_train.run_progress import Heartbeat, RunProgress


class Clock:
    def __init__(self, start):
        self.t = start

    def __call__(self):
        return self.t


def feed(
    progress, clock, stage, first, last, total, *, loss=lambda s: 5.0 - s / 100, eval_every=25, start=True
):
    origin = first if start else 0  # the trainer counts tokens from where its process began the stage
    if start:
        progress.on_event(
            {"event": "start", "stage": stage, "step": first, "total": total, "resumed": first > 0}
        )
    for step in range(first + 1, last + 1):
        clock.t += 0.5
        progress.on_event(
            {
                "event": "step",
                "stage": stage,
                "step": step,
                "total": total,
                "loss": loss(step),
                "tokens": 100 * (step - origin),
            }
        )
        if step % eval_every == 0:
            progress.on_event(
                {"event": "eval", "stage": stage, "step": step, "val_loss": loss(step) + 0.5, "best": True}
            )
    if last == total:
        progress.on_event({"event": "end", "stage": stage, "step": total, "total": total})


def a_default_run_at_sft_step(step, clock):
    progress = RunProgress(attempt=1, now=clock)
    progress.on_event({"event": "plan", "stages": default_tutor_plan()})  # pretrain 100, sft 1000
    progress.on_event({"event": "stage", "stage": "data"})
    feed(progress, clock, "pretrain", 0, 100, 100)
    feed(progress, clock, "sft", 0, step, 1000, eval_every=50)
    return progress


def test_progress_keeps_curves_steps_tokens_and_an_eta():
    clock = Clock(1000.0)
    p = a_default_run_at_sft_step(200, clock).snapshot()
    sft = p["stages"]["sft"]
    assert p["stage"] == "sft" and (sft["step"], sft["total"], sft["tokens"]) == (200, 1000, 20_000)
    assert len(sft["train"]) == 20 and sft["train"][-1][0] == 200  # one point per 10 steps of 1000
    assert sft["val"] == [[50, 5.0], [100, 4.5], [150, 4.0], [200, 3.5]]
    assert p["eta_s"] == pytest.approx(800 * 0.5)  # 800 steps left at 0.5 s a step
    assert p["stages"]["pretrain"]["ended"] and len(p["stages"]["pretrain"]["train"]) == 100


def test_a_resumed_attempt_keeps_the_curves_up_to_its_checkpoint():
    clock = Clock(1000.0)
    before = a_default_run_at_sft_step(230, clock).snapshot()  # died at step 230, last checkpoint 200
    again = RunProgress(before, attempt=2, now=clock)
    feed(again, clock, "pretrain", 100, 100, 100)  # pretraining was complete
    again.on_event({"event": "start", "stage": "sft", "step": 200, "total": 1000, "resumed": True})
    p = again.snapshot()
    sft = p["stages"]["sft"]
    assert max(s for s, _ in sft["train"]) == 200 and max(s for s, _ in sft["val"]) == 200
    assert sft["resumed_from"] == 200 and sft["tokens"] == 20_000
    assert p["resumed"] == [
        {"stage": "pretrain", "step": 100, "total": 100},
        {"stage": "sft", "step": 200, "total": 1000},
    ]
    assert p["attempt"] == 2 and p["log"][-1].startswith("--- attempt 2")


def test_the_chart_is_drawn_inside_its_frame():
    chart = loss_chart(
        "sft", {"total": 100, "train": [[10, 3.0], [100, 1.0]], "val": [[50, 2.0]], "best_step": 50}
    )
    xs = [float(pt.split(",")[0]) for pt in chart["train"].split()]
    ys = [float(pt.split(",")[1]) for pt in chart["train"].split()]
    assert chart["left"] < xs[0] < xs[1] == chart["right"]
    assert chart["top"] < ys[0] < ys[1] < chart["bottom"]  # the higher loss is higher up
    assert chart["best"] == chart["val_dots"][0]
    assert loss_chart("sft", {"total": 100}) is None


@pytest.mark.django_db
def test_the_page_and_its_fragment_show_a_running_runs_progress(client, admin_user):
    now = timezone.now()
    run = TrainingRun.objects.create(
        status="running", worker="gpu@box", attempts=1, started_at=now, heartbeat_at=now
    )
    clock = Clock(time.time() - 400)
    progress = a_default_run_at_sft_step(200, clock)
    progress.log("step   200/1000 | loss 1.2000 <script>alert('x')</script>")
    Heartbeat(run_id=run.pk, attempt=1, progress=progress, interval=5).beat()
    run.refresh_from_db()
    assert run.progress["stages"]["sft"]["step"] == 200 and run.heartbeat_at > now

    client.force_login(admin_user)
    for html in (
        client.get(reverse("models_page")).content.decode(),
        client.get(reverse("models_page"), headers={"HX-Request": "true"}).content.decode(),
    ):
        assert "Running on gpu@box, heartbeat 0 s ago." in html
        assert "Stage: Fine-tuning (SFT)" in html and "200 / 1000" in html and "20000" in html
        assert "training steps end in about" in html  # 800 steps at 0.5 s, less the time since the beat
        assert html.count('<polyline class="train"') == 2 and html.count('<polyline class="validation"') == 2
        assert "Fine-tuning (SFT): loss per step" in html and "validation 3.500 at step 200" in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and "<script>alert" not in html
        assert f"Cancel run {run.pk}" in html
        assert 'hx-trigger="every 3s"' in html
    assert "Versions" not in html  # the fragment is the runs part only
