"""What the admin page shows of a training run: its state in words, stage by stage progress,
ETA, the log tail, and each stage's loss curves (train and validation) as the geometry of an
inline SVG that the template draws. Server-side on purpose: the page's Content-Security-Policy
allows scripts only from the site, and the chart needs none (it redraws with each htmx poll).

    loss_chart("sft", {"total": 100, "train": [[10, 3.2], [20, 2.9]], "val": [[20, 3.1]]})
    run_panel(TrainingRun.objects.first())
"""

from django.utils import timezone

from models_train.models import TrainingRun
from models_train.training import LIVE, training_run_state

WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 46, 22, 12, 28  # room for the axis labels
STAGE_LABELS = {
    "data": "Dialogues from the ramps",
    "tokenizer": "Tokenizer",
    "pretrain": "Pretraining",
    "sft": "Fine-tuning (SFT)",
    "evaluation": "Evaluation (held-out dialogues)",
    "ramp evaluation": "Evaluation (ramps, checkers)",
    "serving evaluation": "Evaluation (as learners would read it: guards, fallbacks)",
}


def _points(series, px, py) -> str:
    return " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in series)


def loss_chart(name: str, stage: dict) -> dict | None:
    """Geometry for one stage's chart, or None while it has no point yet."""
    train, val = stage.get("train") or [], stage.get("val") or []
    if not train and not val:
        return None
    total = max([stage.get("total") or 1] + [s for s, _ in train + val])
    values = [v for _, v in train + val]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 0.5
    lo, hi = max(0.0, lo - pad), hi + pad
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def px(step):
        return LEFT + (right - LEFT) * step / total

    def py(value):
        return bottom - (bottom - TOP) * (value - lo) / (hi - lo)

    best = stage.get("best_step")
    best_point = next(([px(s), py(v)] for s, v in val if s == best), None)
    label = STAGE_LABELS.get(name, name)
    said = []
    if train:
        said.append(f"train {train[-1][1]:.3f} at step {train[-1][0]}")
    if val:
        said.append(f"validation {val[-1][1]:.3f} at step {val[-1][0]}")
    if best_point:
        said.append(f"best validation at step {best}")
    return {
        "id": "chart-" + "".join(c if c.isalnum() else "-" for c in name),
        "title": f"{label}: loss per step",
        "summary": "; ".join(said),
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": right,
        "top": TOP,
        "bottom": bottom,
        "train": _points(train, px, py),
        "val": _points(val, px, py),
        "val_dots": [{"x": round(px(s), 1), "y": round(py(v), 1)} for s, v in val],
        "best": {"x": round(best_point[0], 1), "y": round(best_point[1], 1)} if best_point else None,
        "y_ticks": [{"y": round(py(v), 1), "label": f"{v:.2f}"} for v in (lo, (lo + hi) / 2, hi)],
        "x_ticks": [{"x": round(px(s), 1), "label": str(s)} for s in sorted({0, total // 2, total})],
        "legend_y": HEIGHT - 6,
    }


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def run_panel(run: TrainingRun, *, now=None) -> dict:
    """Everything the page shows of one run, from its row (the worker's last beat)."""
    now = now or timezone.now()
    p = run.progress or {}
    stages = p.get("stages", {})
    plan = p.get("plan") or list(stages)
    current = p.get("stage")
    live = run.status in LIVE
    rows = []
    at = plan.index(current) if current in plan else -1
    for i, name in enumerate(plan):
        st = stages.get(name, {})
        if run.status == TrainingRun.Status.SUCCEEDED or i < at:
            state = "done"
        elif i == at:
            state = {TrainingRun.Status.RUNNING: "running", TrainingRun.Status.QUEUED: "interrupted"}.get(
                run.status, "stopped"
            )
        else:
            state = "not reached" if not live else "to do"
        rows.append(
            {
                "name": name,
                "label": STAGE_LABELS.get(name, name),
                "state": state,
                "step": st.get("step"),
                "total": st.get("total"),
                "tokens": st.get("tokens"),
                "resumed_from": st.get("resumed_from"),
                "best_step": st.get("best_step"),
                "stop_reason": st.get("stop_reason"),
                "chart": loss_chart(name, st),
            }
        )
    eta = p.get("eta_s")
    if eta is not None and p.get("updated"):
        # the worker computed it at its last beat; count the seconds since
        eta = max(0.0, eta - (now.timestamp() - p["updated"]))
    return {
        "run": run,
        "state": training_run_state(run, now=now),
        "live": live,
        "stage": STAGE_LABELS.get(current, current) if current else None,
        "stages": rows,
        "charts": [r for r in rows if r["chart"]],
        "eta": _duration(eta) if eta is not None and run.status == TrainingRun.Status.RUNNING else None,
        "resumed": [
            f"{STAGE_LABELS.get(r['stage'], r['stage'])} was complete (step {r['step']} of {r['total']})."
            if r["step"] >= r["total"]
            else f"{STAGE_LABELS.get(r['stage'], r['stage'])} resumed from its checkpoint at step "
            f"{r['step']} of {r['total']}."
            for r in p.get("resumed") or []
        ],
        "log": p.get("log") or [],
        "can_cancel": live and run.cancel_requested_at is None,
    }
