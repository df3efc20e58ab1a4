"""The scheduler as the README runs it in production: `celery -A tutor beat`, a process of its
own, queues the periodic jobs (here the watch for lost training runs, every half lost period: 5 s)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_celery_beat_alone_queues_the_scheduled_jobs(tmp_path):
    import redis

    server = shutil.which("redis-server")
    if not server:
        pytest.fail("needs redis-server (make test installs it)")
    port = _free_port()
    redis_process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""], stdout=subprocess.DEVNULL
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        RAMP_VAR_DIR=str(tmp_path / "var"),
        RAMP_TRAINING_LOST_SECONDS="10",
    )
    log = open(tmp_path / "beat.log", "w")
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tutor", "beat", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        names = []
        deadline = time.time() + 120
        while time.time() < deadline and "models_train.tasks.watch_training_runs" not in names:
            assert beat.poll() is None, (tmp_path / "beat.log").read_text()
            try:
                queued = client.lrange("default", 0, -1)
            except redis.ConnectionError:
                queued = []
            names = [json.loads(message)["headers"]["task"] for message in queued]
            time.sleep(1)
        assert "models_train.tasks.watch_training_runs" in names, (tmp_path / "beat.log").read_text()
        assert (tmp_path / "var" / "celerybeat-schedule").exists() or list(
            (tmp_path / "var").glob("celerybeat*")
        )
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=30)
        log.close()
        client.close()
        redis_process.terminate()
        redis_process.wait(timeout=10)
