"""Start Ramp on one machine, or run its tests, arranging the services it needs.

    python -m tutor.launch run [--port 8000]   # what `make run` does
    python -m tutor.launch test [PYTEST ARGS]   # what `make test` does

`run` migrates, loads the demo data (seed ramps, demo accounts), makes sure a broker is
there (REDIS_URL if set; else Redis on 127.0.0.1:6379; else it starts redis-server,
installing it from Debian's packages if it can; else a filesystem broker, and says so),
starts a Celery worker per queue and the web server, prints the URL, and stops everything
it started on Ctrl-C. A worker that dies is started again, after what is left of its process
group (its pool children) is ended; when the web server or Redis dies, or a worker dies more
than Services.MAX_RESTARTS times a minute, everything is stopped cleanly.

`test` uses PostgreSQL and Redis on 127.0.0.1 when they answer, SQLite and a started Redis
otherwise, and makes sure Chromium is installed for the browser tests.

This module imports no Django: it runs before the environment is known to be sound.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def say(message: str) -> None:
    print(f"ramp: {message}", flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit(f"ramp: no free port between {preferred} and {preferred + 49}")


def apt_install(package: str) -> bool:
    """Install a Debian package when we are root on a Debian-like machine; True on success."""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return False
    say(f"installing {package} from Debian's packages…")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "-q", package],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", package],
    ):
        result = subprocess.run(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900
        )
        if result.returncode == 0 and command[1] == "install":
            return True
    return False


class Child:
    """One process we started (the leader of its own process group) and how to start it again."""

    def __init__(self, name: str, command: list[str], kwargs: dict, restart: bool) -> None:
        self.name, self.command, self.kwargs, self.restart = name, command, kwargs, restart
        self.process: subprocess.Popen | None = None
        self.restarts: list[float] = []  # when it was restarted


def group_members(pgid: int) -> list[int]:
    """The live processes of a process group (zombies, already dead, left out). A dead Celery
    worker's pool children stay in its group after it is gone."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel whether anything is left
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            members.append(int(entry.name))
    return members


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


def group_gone_by(pgid: int, deadline: float) -> bool:
    """Wait until the group has no live process or `deadline` (time.time()) passes."""
    while time.time() < deadline and group_alive(pgid):
        time.sleep(0.1)
    return not group_alive(pgid)


def end_group(pgid: int, seconds: float = 10) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after `seconds`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if group_gone_by(pgid, time.time() + seconds):
            return


class Services:
    """Child processes we started, each in its own process group; `check` restarts a
    restartable one that died (after ending what is left of its group), `stop` ends them all."""

    MAX_RESTARTS = 3  # within RESTART_WINDOW seconds; then something is wrong: stop everything
    RESTART_WINDOW = 60.0

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(self, name: str, command: list[str], *, restart: bool = False, **kwargs) -> subprocess.Popen:
        child = Child(name, command, kwargs, restart)
        self.children.append(child)
        return self._spawn(child)

    def _spawn(self, child: Child) -> subprocess.Popen:
        child.process = subprocess.Popen(child.command, cwd=ROOT, start_new_session=True, **child.kwargs)
        say(f"started {child.name} (pid {child.process.pid})")
        return child.process

    def check(self) -> int | None:
        """Look after the children once: None while all is well (a dead restartable child is
        started again), 1 when one died that can't or shouldn't be restarted."""
        for child in self.children:
            process = child.process
            if process is None or process.poll() is None:
                continue
            # Its pool children (a prefork worker's) outlive it in its process group.
            end_group(process.pid)
            now = time.time()
            child.restarts = [t for t in child.restarts if now - t < self.RESTART_WINDOW]
            if child.restart and len(child.restarts) < self.MAX_RESTARTS:
                say(f"{child.name} stopped unexpectedly (exit {process.returncode}); restarting it")
                child.restarts.append(now)
                self._spawn(child)
                continue
            why = (
                f"it stopped {len(child.restarts) + 1} times within {self.RESTART_WINDOW:.0f} s"
                if child.restart
                else "Ramp can't run without it"
            )
            say(f"{child.name} stopped unexpectedly (exit {process.returncode}); {why}; stopping everything")
            return 1
        return None

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process is not None:
                try:  # the group even when its leader is gone: its children may not be
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 15
        for child in reversed(self.children):
            process = child.process
            if process is None:
                continue
            try:
                process.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in time; killing it")
            if not group_gone_by(process.pid, deadline):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()
        self.children.clear()


def ensure_redis(services: Services, *, database: int) -> str | None:
    """Return a Redis URL to use, starting Redis if needed; None means no Redis at all."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if port_open("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{database}"
    if not shutil.which("redis-server"):
        apt_install("redis-server")
    server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not server:
        return None
    port = free_port(6390)
    services.start(
        "redis",
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        if port_open("127.0.0.1", port):
            say(f"started Redis on 127.0.0.1:{port}")
            return f"redis://127.0.0.1:{port}/{database}"
        time.sleep(0.1)
    return None


def manage(*args: str, env: dict) -> None:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def wait_for_http(port: int, seconds: float = 60) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if port_open("127.0.0.1", port):
            return True
        time.sleep(0.2)
    return False


def command_run(args: argparse.Namespace) -> int:
    services = Services()
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env["PYTHONUNBUFFERED"] = "1"

    def shutdown(signum, frame):
        raise KeyboardInterrupt

    # Both explicitly: a shell that starts us in the background sets SIGINT to "ignore".
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        redis_url = ensure_redis(services, database=0)
        if redis_url:
            env["REDIS_URL"] = redis_url
            say(f"broker: {redis_url}")
        else:
            say(
                "broker: Redis is not available and could not be installed; using the embedded "
                "filesystem broker under var/broker (fine for one machine, not for several)"
            )
        var_dir = Path(env.get("RAMP_VAR_DIR") or ROOT / "var")
        say("database: " + (env.get("DATABASE_URL") or f"SQLite file {var_dir / 'ramp.sqlite3'}"))
        manage("check", "--fail-level", "ERROR", env=env)
        manage("migrate", "--noinput", env=env)
        manage("load_demo", *(["--no-model"] if args.no_model else []), env=env)
        celery = [PYTHON, "-m", "celery", "-A", "tutor", "worker", "--loglevel", "WARNING"]
        # The default worker also runs the scheduler (-B) for periodic calibration.
        # A worker that dies is started again (its stray pool children ended first); the web
        # server or Redis dying stops everything.
        services.start(
            "worker (default)",
            celery + ["-Q", "default", "-c", "2", "-n", "default@%h", "-B"],
            env=env,
            restart=True,
        )
        services.start(
            "worker (gpu)", celery + ["-Q", "gpu", "-c", "1", "-n", "gpu@%h"], env=env, restart=True
        )
        # The tutor model writes learners' messages here; at a lower CPU priority, so pages stay
        # fast while it decodes (tutor/speaking.py says why it is a process of its own).
        services.start(
            "worker (tutor)",
            ["nice", "-n", "5", *celery, "-Q", "tutor", "-c", "1", "-n", "tutor@%h"],
            env=env,
            restart=True,
        )
        port = free_port(args.port)
        host = args.host
        services.start(
            "web",
            [PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload", "--skip-checks"],
            env=env,
        )
        if not wait_for_http(port):
            say("the web server did not start; see its output above")
            return 1
        say(f"demo accounts are printed above; log in at http://127.0.0.1:{port}/accounts/login/")
        say(
            f"Ramp is running at http://{'127.0.0.1' if host in ('0.0.0.0', '127.0.0.1') else host}:{port}/  "
            "(Ctrl-C stops it)"
        )
        while (status := services.check()) is None:
            time.sleep(0.5)
        return status
    except KeyboardInterrupt:
        say("stopping…")
        return 0
    finally:
        services.stop()


def ensure_chromium() -> None:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    if not apt_install("chromium"):
        say("Chromium is not installed and could not be installed: browser tests will fail")


def command_test(args: argparse.Namespace) -> int:
    services = Services()
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        if not env.get("DATABASE_URL") and port_open("127.0.0.1", 5432):
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/ramp"
        say("tests use " + ("PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"))
        # Database 15, so the tests never touch a development instance's queues.
        redis_url = ensure_redis(services, database=15)
        if redis_url:
            env["REDIS_URL"] = redis_url
            say(f"tests use Redis at {redis_url}")
        else:
            say("no Redis could be found or started: tests that need it will fail")
        ensure_chromium()
        return subprocess.run([PYTHON, "-m", "pytest", *args.pytest_args], cwd=ROOT, env=env).returncode
    finally:
        services.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.launch", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="set up and run Ramp with demo data")
    run.add_argument("--host", default=os.environ.get("RAMP_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=8000)
    run.add_argument(
        "--no-model", action="store_true", help="don't train the default tutor model in the background"
    )
    sub.add_parser("test", help="run the test suite against real services (other arguments go to pytest)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return command_run(args)
    args.pytest_args = rest
    return command_test(args)


if __name__ == "__main__":
    sys.exit(main())
