"""The run command starts the whole app on a fresh data folder, restarts a worker that dies,
and stops all it started."""

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

from tests.conftest import require_redis, wait_for
from tutor.launch import Services, group_members

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
def test_run_command_serves_restarts_a_dead_worker_and_stops_cleanly(tmp_path):
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
        for _ in range(60):  # workers need a moment to report themselves
            try:
                # the first request of a cold server on a busy machine may take seconds
                with urllib.request.urlopen(url + "healthz", timeout=60) as response:
                    body = json.load(response)
                    break
            except urllib.error.HTTPError as error:
                body = json.load(error)
                time.sleep(1)
        # ok: the database, the broker and a worker on each of the three queues are up
        assert body == {"status": "ok", "failing": []}, body

        # A worker killed (its main process alone, as the OOM killer does) is started again,
        # its orphaned pool child ended, and the web server keeps serving.
        gpu = int(re.search(r"started worker \(gpu\) \(pid (\d+)\)", output).group(1))
        pool = [pid for pid in group_members(gpu) if pid != gpu]
        assert pool, "the gpu worker has a pool child"
        os.kill(gpu, signal.SIGKILL)
        restarted = None
        while time.time() < deadline and restarted is None:
            line = process.stdout.readline()
            lines.append(line)
            restarted = re.search(r"started worker \(gpu\) \(pid (\d+)\)", line)
        assert restarted, "".join(lines)
        assert "worker (gpu) stopped unexpectedly (exit -9); restarting it" in "".join(lines)
        pids.append(int(restarted.group(1)))
        assert not any(pid_alive(pid) for pid in pool), "the dead worker's pool child was left behind"
        with urllib.request.urlopen(url + "livez", timeout=30) as response:
            assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert "stopping" in rest
    for pid in pids:
        assert not pid_alive(pid), f"pid {pid} still running after Ctrl-C"
        assert not group_members(pid), f"the group of pid {pid} still has processes after Ctrl-C"


# --- looking after the processes it started (fake workers: fast) ---------------------------

# A stand-in for a prefork Celery worker: it forks a "pool child" into its process group and
# writes that child's pid to the file named by its argument.
FAKE_WORKER = """
import os, sys, time
child = os.fork()
if child == 0:
    time.sleep(600)
    os._exit(0)
with open(sys.argv[1], "w") as out:
    out.write(str(child))
time.sleep(600)
"""


def _fake_worker(services, tmp_path, name, *, restart):
    pidfile = tmp_path / f"{name}.pid"
    process = services.start(name, [sys.executable, "-c", FAKE_WORKER, str(pidfile)], restart=restart)
    child = wait_for(
        lambda: pidfile.exists() and pidfile.read_text() and int(pidfile.read_text()), timeout=20
    )
    pidfile.unlink()
    return process, child, pidfile


def test_a_dead_worker_is_restarted_and_its_pool_child_ended(tmp_path, capsys):
    services = Services()
    try:
        web = services.start("web", [sys.executable, "-c", "import time; time.sleep(600)"])
        worker, pool_child, pidfile = _fake_worker(services, tmp_path, "worker (gpu)", restart=True)
        os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
        assert wait_for(lambda: worker.poll() is not None)
        assert services.check() is None
        assert not pid_alive(pool_child), "the dead worker's pool child was left behind"
        again = services.children[1].process
        assert again.pid != worker.pid and again.poll() is None
        assert wait_for(lambda: pidfile.exists(), timeout=20)  # the new one is running
        assert web.poll() is None  # the web server was left alone
        assert "worker (gpu) stopped unexpectedly (exit -9); restarting it" in capsys.readouterr().out
    finally:
        services.stop()
    assert not pid_alive(web.pid) and not pid_alive(again.pid) and not group_members(again.pid)


def test_a_worker_that_keeps_dying_stops_everything(tmp_path, capsys):
    services = Services()
    try:
        web = services.start("web", [sys.executable, "-c", "import time; time.sleep(600)"])
        services.start("worker (default)", [sys.executable, "-c", "raise SystemExit(3)"], restart=True)
        statuses = []
        for _ in range(Services.MAX_RESTARTS + 1):
            assert wait_for(lambda: services.children[1].process.poll() is not None)
            statuses.append(services.check())
        assert statuses == [None] * Services.MAX_RESTARTS + [1]
        assert "stopped 4 times within 60 s; stopping everything" in capsys.readouterr().out
    finally:
        services.stop()
    assert not pid_alive(web.pid)


def test_the_web_server_dying_stops_everything_cleanly(tmp_path, capsys):
    services = Services()
    try:
        worker, pool_child, _ = _fake_worker(services, tmp_path, "worker (default)", restart=True)
        web = services.start("web", [sys.executable, "-c", "raise SystemExit(1)"])
        assert wait_for(lambda: web.poll() is not None)
        assert services.check() == 1
        assert "web stopped unexpectedly (exit 1); Ramp can't run without it; stopping everything" in (
            capsys.readouterr().out
        )
    finally:
        services.stop()
    assert not pid_alive(worker.pid) and not pid_alive(pool_child)


def test_stop_ends_the_group_of_a_leader_already_gone(tmp_path):
    services = Services()
    worker, pool_child, _ = _fake_worker(services, tmp_path, "worker (tutor)", restart=True)
    os.kill(worker.pid, signal.SIGKILL)
    assert wait_for(lambda: worker.poll() is not None)
    services.stop()  # Ctrl-C before the next check
    assert not pid_alive(pool_child)
