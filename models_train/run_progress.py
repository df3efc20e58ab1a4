"""A training run's live state, as its worker reports it: the trainer's events become the
run's `progress` (stages, step of total, tokens, ETA, loss curves, log tail), and a
heartbeat thread writes it to the run's row every few seconds.

The heartbeat proves the worker process is alive (it beats through the stages without
steps too: data, tokenizer, evaluation), so a run whose heartbeat stops is one whose worker
died (models_train/training.py takes it for lost). Each beat also reads whether an admin
asked to cancel the run, or whether another attempt took it over, and says so to the
training loop, which stops at its next step.
"""

import contextlib
import copy
import io
import threading
import time
from collections import deque
from pathlib import Path

from django.db import connections
from django.utils import timezone

from models_train.models import TrainingRun

SERIES_POINTS = 100  # points per loss curve and stage: the chart is ~500 px wide
LOG_LINES = 30


class RunProgress:
    """Folds trainer events (see models_train/trainer.py) into a JSON-able dict.

    Kept across attempts: a resumed attempt starts from what the last one wrote and drops
    the points past the checkpoint it resumed from (the loop retraces them exactly).
    """

    def __init__(self, progress: dict | None = None, *, attempt: int = 1, now=time.time):
        self._now = now
        self._lock = threading.Lock()
        p = copy.deepcopy(progress or {})
        p.setdefault("stages", {})
        p.setdefault("plan", [])
        p["attempt"] = attempt
        p["resumed"] = []
        self._log = deque(p.get("log", []), maxlen=LOG_LINES)
        if attempt > 1:
            self._log.append(f"--- attempt {attempt}: resuming from the last checkpoints ---")
        self._p = p
        self._acc: dict[str, list] = {}  # stage -> [loss sum, steps] of the chart point being built
        self._first: dict[str, tuple[float, int]] = {}  # stage -> (time, step) of this attempt's first step

    def on_event(self, event: dict) -> None:
        with self._lock:
            getattr(self, "_on_" + event["event"], lambda e: None)(event)
            self._p["updated"] = self._now()

    def log(self, line: str) -> None:
        with self._lock:
            self._log.append(line[:300])

    def snapshot(self) -> dict:
        with self._lock:
            p = copy.deepcopy(self._p)
            p["log"] = list(self._log)
            p["eta_s"] = self._eta()
            return p

    # events

    def _on_plan(self, e):
        self._p["plan"] = [s["stage"] for s in e["stages"]]
        for s in e["stages"]:
            if "total" in s:
                self._stage(s["stage"]).setdefault("total", s["total"])

    def _on_stage(self, e):
        self._p["stage"] = e["stage"]

    def _on_start(self, e):
        name, step = e["stage"], e["step"]
        st = self._stage(name)
        self._p["stage"] = name
        old_step, old_tokens = st.get("step", 0), st.get("tokens", 0)
        st.update(total=e["total"], step=step, resumed_from=step if e.get("resumed") else None)
        # Past the checkpoint the loop resumes from, the old points are retraced: drop them.
        st["train"] = [pt for pt in st.get("train", []) if pt[0] <= step]
        st["val"] = [pt for pt in st.get("val", []) if pt[0] <= step]
        st["tokens"] = round(old_tokens * step / old_step) if old_step else 0
        st["tokens_base"] = st["tokens"]
        self._acc[name] = [0.0, 0]
        if e.get("resumed") and step > 0:
            self._p["resumed"].append({"stage": name, "step": step, "total": e["total"]})

    def _on_step(self, e):
        name, step = e["stage"], e["step"]
        st = self._stage(name)
        st.update(step=step, total=e["total"], tokens=st.get("tokens_base", 0) + e.get("tokens", 0))
        self._first.setdefault(name, (self._now(), step))
        acc = self._acc.setdefault(name, [0.0, 0])
        acc[0] += e["loss"]
        acc[1] += 1
        every = max(1, e["total"] // SERIES_POINTS)
        if step % every == 0 or step == e["total"]:
            st.setdefault("train", []).append([step, round(acc[0] / acc[1], 4)])
            self._acc[name] = [0.0, 0]

    def _on_eval(self, e):
        st = self._stage(e["stage"])
        st.setdefault("val", []).append([e["step"], round(e["val_loss"], 4)])
        if e.get("best"):
            st["best_step"] = e["step"]

    def _on_checkpoint(self, e):
        self._stage(e["stage"])["checkpoint_step"] = e["step"]

    def _on_end(self, e):
        st = self._stage(e["stage"])
        st["ended"] = True
        for key in ("best_step", "stop_reason", "stopped_early", "val_loss", "train_loss_mean"):
            if key in e:
                st[key] = e[key]

    # helpers

    def _stage(self, name: str) -> dict:
        return self._p["stages"].setdefault(name, {})

    def _sec_per_step(self, name: str) -> float | None:
        if name not in self._first:
            return None
        t0, s0 = self._first[name]
        done = self._p["stages"][name].get("step", 0) - s0
        return (self._now() - t0) / done if done > 0 else None

    def _eta(self) -> float | None:
        """Seconds until the training stages end (at most: early stopping may end SFT
        sooner); the stages without steps (evaluation) are not counted."""
        current = self._p.get("stage")
        training = [s for s in self._p["plan"] if "total" in self._p["stages"].get(s, {})]
        if current not in training:
            return None
        rate = self._sec_per_step(current)
        if rate is None:
            return None
        left = 0.0
        for name in training[training.index(current) :]:
            st = self._p["stages"][name]
            # a later stage is guessed at the current stage's pace until it has its own
            left += (st["total"] - st.get("step", 0)) * (self._sec_per_step(name) or rate)
        return round(left, 1)


class Heartbeat:
    """Writes the run's heartbeat and progress every `interval` seconds from a thread, and
    turns an admin's cancel (or another attempt taking the run over) into `stop_reason`."""

    def __init__(self, *, run_id: int, attempt: int, progress: RunProgress, interval: float):
        self.run_id, self.attempt, self.progress, self.interval = run_id, attempt, progress, interval
        self.stop_reason: str | None = None  # "cancelled" or "superseded"
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-run-{run_id}", daemon=True)

    def beat(self) -> None:
        ours = TrainingRun.objects.filter(
            pk=self.run_id, status=TrainingRun.Status.RUNNING, attempts=self.attempt
        )
        if not ours.update(heartbeat_at=timezone.now(), progress=self.progress.snapshot()):
            self.stop_reason = "superseded"  # taken for lost and resumed elsewhere, or finished
        elif ours.filter(cancel_requested_at__isnull=False).exists():
            self.stop_reason = "cancelled"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            while not self._halt.wait(self.interval):
                with contextlib.suppress(Exception):  # a database hiccup: the next beat retries
                    self.beat()
        finally:
            connections.close_all()  # this thread's connections only


class LogTee(io.TextIOBase):
    """stdout during a run: each line goes to the run's log tail and log file, and on to the
    stream it replaced (the worker's log)."""

    def __init__(self, progress: RunProgress, path: Path, stream, *, append: bool = True):
        self.progress, self.stream, self._buf = progress, stream, ""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "a" if append else "w", encoding="utf-8")  # closed by close()

    def write(self, s: str) -> int:
        self.file.write(s)
        self.file.flush()
        self.stream.write(s)
        self._buf += s
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            if line.strip():
                self.progress.log(line)
        return len(s)

    def flush(self) -> None:
        self.file.flush()
        self.stream.flush()

    def close(self) -> None:
        if self.closed:
            return
        if self._buf.strip():
            self.progress.log(self._buf)
        super().close()  # flushes first
        self.file.close()
