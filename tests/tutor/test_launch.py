"""The run command starts the whole app on a fresh data folder and stops all it started."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require_redis

ROOT = Path(__file__).resolve().parents[2]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.slow
def test_run_command_serves_and_stops_cleanly(tmp_path):
    redis_url = require_redis().rsplit("/", 1)[0] + "/14"  # its own queues, apart from the test worker's
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(RAMP_VAR_DIR=str(tmp_path / "var"), REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "tutor.launch", "run", "--port", "8765", "--no-model"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = None
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if match := re.search(r"Ramp is running at (http://\S+)", line):
                url = match.group(1)
                break
        output = "".join(lines)
        assert url, output
        assert re.search(r"Learner\s+learner / \S+", output)
        assert re.search(r"Admin\s+admin / \S+", output)
        pids = [int(p) for p in re.findall(r"started .+ \(pid (\d+)\)", output)]
        assert len(pids) == 4  # three workers (default, gpu, tutor) and the web server

        body = None
        for _ in range(60):  # workers need a moment to answer pings
            try:
                with urllib.request.urlopen(url + "healthz", timeout=5) as response:
                    body = json.load(response)
                    break
            except urllib.error.HTTPError as error:
                body = json.load(error)
                time.sleep(1)
        # ok: the database, the broker and a worker on each of the three queues are up
        assert body == {"status": "ok", "failing": []}, body
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "stopping" in rest
    for pid in pids:
        assert not pid_alive(pid), f"pid {pid} still running after Ctrl-C"
