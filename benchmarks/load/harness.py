"""The load benchmark's machinery (see benchmarks/load/__main__.py for what it measures)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tutor.launch import PYTHON, ROOT, Services, free_port, port_open

DB_NAME = "ramp_load"
REDIS_DB = 13
PASSWORD = "load-Bench-pass-123"
TARGETS = {
    "answer_p95_ms": 150.0,  # "submit answer -> next step"
    "answer_vs_minimal_rps": 0.5,  # at least half the minimal view's throughput
    "tutor_first_text_p95_s": 0.3,
    "tutor_reply_p95_s": 1.5,
    "pages_slower_with_tutor": 1.2,  # page p95 with generation / without
}
# what a learner waits for in the study loop, compared with the tutor on and off
PAGES = ("answer", "next question", "study page", "hint")


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Stats:
    rows: dict = field(default_factory=lambda: defaultdict(list))  # endpoint -> [(seconds, status, ok)]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, seconds: float, status: int, *, ok: tuple[int, ...] = (200,)) -> None:
        """One request: its time and HTTP status (0: no answer); ``ok``: the statuses expected."""
        with self.lock:
            self.rows[name].append((seconds, status, status in ok))

    def summary(self, wall: float) -> dict:
        out = {name: _endpoint_summary(rows, wall) for name, rows in sorted(self.rows.items())}
        # the pages together: one endpoint's p95 over a few dozen requests is nearly its maximum
        pooled = [r for name in PAGES if name in self.rows for r in self.rows[name]]
        if pooled:
            out["pages (all)"] = _endpoint_summary(pooled, wall)
        return out


def _endpoint_summary(rows: list[tuple[float, int, bool]], wall: float) -> dict:
    failed = Counter(str(status) for _, status, ok in rows if not ok)
    return {
        "n": len(rows),
        "errors": sum(failed.values()),
        "error_statuses": dict(failed),
        "rps": round(len(rows) / wall, 2) if wall else None,
        **percentiles_ms([seconds for seconds, _, ok in rows if ok]),
    }


def percentiles_ms(times: list[float]) -> dict:
    if not times:
        return {}
    times = sorted(times)

    def at(q):
        return round(1000 * times[min(len(times) - 1, int(q * len(times)))], 1)

    return {"p50_ms": round(1000 * statistics.median(times), 1), "p95_ms": at(0.95), "p99_ms": at(0.99)}


# --- a learner's browser, over HTTP ---------------------------------------------------------------


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Client:
    """One learner's connection: their session, a CSRF token, keep-alive."""

    def __init__(self, port: int, session: str):
        self.port = port
        self.csrf = secrets.token_hex(16)
        self.cookies = f"sessionid={session}; csrftoken={self.csrf}"
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self.conn

    def request(self, method: str, path: str, form: dict | None = None, *, htmx: bool = False):
        headers = {"Cookie": self.cookies, "X-CSRFToken": self.csrf}
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        for attempt in (1, 2):
            reused = self.conn is not None
            try:
                conn = self._conn()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                return response.status, text, time.perf_counter() - start
            except (OSError, http.client.HTTPException) as error:
                self.close()
                # gunicorn closes a keep-alive connection idle for a few seconds (a learner
                # thinking); a browser sends the request again on a new one, so does this client
                if reused and attempt == 1 and isinstance(error, _STALE):
                    continue
                return 0, str(error), time.perf_counter() - start
        raise AssertionError("unreachable")

    def stream(self, path: str) -> tuple[float | None, float, bool]:
        """Read a tutor message's event stream to its end: (seconds to the first words or
        None, seconds in all, whether it ended with "done")."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        start = time.perf_counter()
        first = None
        try:
            conn.request("GET", path, headers={"Cookie": self.cookies, "Accept": "text/event-stream"})
            response = conn.getresponse()
            event = ""
            while True:
                line = response.fp.readline()
                if not line:
                    return first, time.perf_counter() - start, False
                line = line.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "text" and first is None:
                    first = time.perf_counter() - start
                elif line.startswith("data: ") and event == "done":
                    return first, time.perf_counter() - start, True
        except (OSError, http.client.HTTPException):
            return first, time.perf_counter() - start, False
        finally:
            conn.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# the step of the answer form, not of a hint or solution form of a question already answered
_ANSWER_STEP = re.compile(r'id="answer-form".*?name="step" value="(\d+)"', re.S)
_STREAM = re.compile(r'data-stream="([^"]+)"')


def answers_for(step_id: int) -> tuple[str, str, str]:
    """(right, wrong, item type) for a study step, read from the database as the page knows it."""
    from courses.checkers import answer_as_input
    from learner.models import Step
    from tutor.study import variant_for

    step = Step.objects.select_related("item", "item_version", "concept__course").get(pk=step_id)
    variant = variant_for(step)
    right = answer_as_input(variant.key)[0]
    right = "\n".join(right) if isinstance(right, list) else right
    if step.item.type == "multiple_choice":
        wrong = next((c for c in variant.choices if c != variant.key.answer), right)
    elif step.item.type == "ordering":
        wrong = "\n".join(reversed(right.split("\n")))
    elif step.item.type == "expression":
        wrong = "x + 12345"
    else:
        wrong = "98765" if step.item.type == "numeric" else "certainly not this"
    return right, wrong, step.item.type


def _open_step(html: str) -> int | None:
    """The id of the question the page asks (its answer form), if it asks one."""
    found = _ANSWER_STEP.search(html)
    return int(found.group(1)) if found else None


def learner_loop(client: Client, slug: str, stats: Stats, until: float, *, think: float, tutor: bool, rng):
    status, html, seconds = client.request("GET", f"/learn/{slug}/")
    stats.record("study page", seconds, status)
    if status == 200 and _open_step(html) is None:  # not started yet: Start (a POST, then the page)
        status, _, seconds = client.request("POST", f"/learn/{slug}/start/", {})
        stats.record("start", seconds, status, ok=(302,))
        status, html, seconds = client.request("GET", f"/learn/{slug}/")
        stats.record("study page", seconds, status)
    while time.monotonic() < until:
        step_id = _open_step(html)
        if step_id is None:
            # after the tutor's reply the next question waits behind "Skip to the next question"
            status, html, seconds = client.request("GET", f"/learn/{slug}/step/", htmx=True)
            stats.record("next question", seconds, status)
            if _open_step(html) is None:  # nothing open: ask for something to study
                status, html, seconds = client.request("POST", f"/learn/{slug}/continue/", {}, htmx=True)
                stats.record("continue", seconds, status)
                if _open_step(html) is None:
                    break  # the ramp is done for now
            continue
        right, wrong, _ = answers_for(step_id)
        if f"/learn/{slug}/hint/" in html and rng.random() < 0.1:  # only where the page offers one
            status, _, seconds = client.request("POST", f"/learn/{slug}/hint/", {"step": step_id}, htmx=True)
            stats.record("hint", seconds, status)
        roll = rng.random()
        form = {"step": step_id, "time_taken_ms": 4000}
        if roll < 0.7:
            form["answer"] = right
        elif roll < 0.9:
            form["answer"] = wrong
        else:
            form["dont_know"] = "1"
        status, html, seconds = client.request("POST", f"/learn/{slug}/answer/", form, htmx=True)
        stats.record("answer", seconds, status)
        stream = _STREAM.search(html)
        if stream is not None and tutor:
            first, total, done = client.stream(stream.group(1))
            stats.record("tutor reply", total, 200 if done else 0)
            if first is not None:
                stats.record("tutor first words", first, 200)
        if think:
            time.sleep(think * (0.5 + rng.random()))


def closed_loop(port: int, path: str, seconds: float, clients: int) -> float:
    """Requests per second ``clients`` back-to-back clients get from ``path``."""
    count = [0]
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < until:
            try:
                conn.request("GET", path)
                conn.getresponse().read()
                n += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            count[0] += n

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / seconds


# --- the stack --------------------------------------------------------------------------------------


def _env() -> dict:
    """The stack's environment: the benchmark's database, Redis database and state folder (set
    by benchmarks/load/__main__.py before the settings were read)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    return env


def _fresh_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def _manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def setup_data(args) -> tuple[str, list[str]]:
    """(course slug, session keys of the learners) in the benchmark's database."""
    import django

    django.setup()
    from django.contrib.sessions.backends.db import SessionStore

    from core.accounts.models import User
    from core.accounts.services import user_create
    from courses.models import Course

    course = Course.objects.filter(status=Course.Status.PUBLISHED, slug=args.course).first()
    if course is None:
        raise SystemExit(f"load: no published course {args.course!r}")
    sessions = []
    for i in range(args.learners):
        name = f"load-learner-{i}"
        user = User.objects.filter(username=name).first() or user_create(username=name, password=PASSWORD)
        store = SessionStore()
        store["_auth_user_id"] = str(user.pk)
        store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        store["_auth_user_hash"] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return course.slug, sessions


def set_model(checkpoint: str | None) -> str:
    """Make ``checkpoint`` the active tutor (None: no model, learners get the authored text)."""
    from models_train.models import ModelVersion
    from models_train.versions import model_version_promote, model_version_register

    ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).update(status=ModelVersion.Status.RETIRED)
    if checkpoint is None:
        return "none"
    name = f"load-{int(time.time())}"
    version = model_version_register(name=name, checkpoint_path=str(checkpoint))
    model_version_promote(version=version, override_reason="the load benchmark's tutor")
    return name


def start_stack(services: Services, env: dict, args, *, tutor: bool, access_log: Path) -> int:
    port = free_port(8800)
    celery = [PYTHON, "-m", "celery", "-A", "tutor", "worker", "--loglevel", "WARNING"]
    services.start(
        "worker (default)",
        celery + ["-Q", "default", "-c", "1", "-n", f"load-default-{port}@%h"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if tutor:
        services.start(
            "worker (tutor)",
            [
                "nice",
                "-n",
                "5",
                *celery,
                "-Q",
                "tutor",
                "-c",
                str(args.tutor_workers),
                "-n",
                f"load-tutor-{port}@%h",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
    services.start(
        "web (gunicorn)",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "python:tutor.gunicorn_conf",
            "tutor.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--timeout",
            "60",
            "--log-level",
            "warning",
            # the server's own time per request, beside what the learners measured
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(m)s %(U)s %(s)s %(M)s",
        ],
        env=env,
    )
    for _ in range(300):
        if port_open("127.0.0.1", port):
            break
        time.sleep(0.1)
    else:
        raise SystemExit("load: gunicorn did not start")
    # every gunicorn worker imports Django on its first request: not part of what is measured
    closed_loop(port, "/livez", 3.0, args.web_workers * args.threads)
    time.sleep(2 if tutor else 0.5)  # workers connecting to the broker
    return port


def run_learners(port: int, slug: str, sessions: list[str], args, *, tutor: bool) -> tuple[dict, float]:
    stats = Stats()
    until = time.monotonic() + args.duration
    threads = []
    for i, session in enumerate(sessions):
        client = Client(port, session)
        rng = random.Random(f"{args.seed}:{i}")
        threads.append(
            threading.Thread(
                target=learner_loop,
                args=(client, slug, stats, until),
                kwargs={"think": args.think, "tutor": tutor, "rng": rng},
                daemon=True,
            )
        )
    start = time.monotonic()
    for t in threads:
        t.start()
        # learners arrive over the first --arrive seconds, not all in the same instant
        time.sleep(args.arrive / max(1, len(threads)))
    for t in threads:
        t.join(timeout=args.duration + 60)
    wall = time.monotonic() - start
    return stats.summary(wall), wall


# the learner phase's requests as gunicorn logged them: what each is called in the report
_SERVER_ENDPOINTS = (
    (re.compile(r"^POST /learn/[^/]+/answer/$"), "answer"),
    (re.compile(r"^GET /learn/[^/]+/step/$"), "next question"),
    (re.compile(r"^GET /learn/[^/]+/$"), "study page"),
    (re.compile(r"^POST /learn/[^/]+/hint/$"), "hint"),
    (re.compile(r"^POST /learn/[^/]+/start/$"), "start"),
    (re.compile(r"^POST /learn/[^/]+/continue/$"), "continue"),
)


def server_times(lines: list[str]) -> dict:
    """p50/p95/p99 per endpoint of the time gunicorn spent on each request (its access log:
    method, path, status, milliseconds): the server's share of what the learners waited."""
    times: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        parts = line.split()
        if len(parts) != 4:
            continue
        method, path, _status, ms = parts
        name = next((n for pattern, n in _SERVER_ENDPOINTS if pattern.match(f"{method} {path}")), None)
        if name is not None:
            times[name].append(int(ms) / 1000)
    return {name: {"n": len(t), **percentiles_ms(t)} for name, t in sorted(times.items())}


def phase(args, env, slug, sessions, *, tutor: bool) -> dict:
    services = Services()
    load_before = os.getloadavg()
    access_log = Path(env["RAMP_VAR_DIR"]) / f"access-{'tutor' if tutor else 'plain'}.log"
    access_log.parent.mkdir(parents=True, exist_ok=True)
    access_log.unlink(missing_ok=True)
    try:
        port = start_stack(services, env, args, tutor=tutor, access_log=access_log)
        out: dict = {"tutor": tutor}
        if args.saturate:
            out["minimal_view_rps"] = round(closed_loop(port, "/livez", args.saturate, args.clients), 1)
        before = access_log.stat().st_size if access_log.exists() else 0
        learners, wall = run_learners(port, slug, sessions, args, tutor=tutor)
        with access_log.open() as log:
            log.seek(before)
            out["server"] = server_times(log.readlines())
        out.update(endpoints=learners, wall_s=round(wall, 1))
        if args.saturate:
            saturated = Namespace(**{**vars(args), "think": 0.0, "arrive": 0.0, "duration": args.saturate})
            burst, burst_wall = run_learners(port, slug, sessions[: args.clients], saturated, tutor=False)
            out["answer_rps_saturated"] = round(burst.get("answer", {}).get("n", 0) / burst_wall, 1)
        out["load_avg"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
        return out
    finally:
        services.stop()


class Namespace(argparse.Namespace):
    pass


def report(summary: dict) -> None:
    for run in summary["runs"]:
        print(f"\n{'tutor on' if run['tutor'] else 'tutor off'}: {run['wall_s']} s, load {run['load_avg']}")
        if "minimal_view_rps" in run:
            print(
                f"  minimal view {run['minimal_view_rps']} req/s; answers {run['answer_rps_saturated']} req/s"
            )
        for name, s in run["endpoints"].items():
            print(
                f"  {name:<18} n {s['n']:>6}  {s.get('rps') or 0:>7.2f}/s  p50 {s.get('p50_ms', '-'):>7}"
                f"  p95 {s.get('p95_ms', '-'):>7}  p99 {s.get('p99_ms', '-'):>7} ms  errors {s['errors']}"
            )
        for name, s in run.get("server", {}).items():
            print(
                f"  server: {name:<10} n {s['n']:>6}            p50 {s.get('p50_ms', '-'):>7}"
                f"  p95 {s.get('p95_ms', '-'):>7}  p99 {s.get('p99_ms', '-'):>7} ms"
            )
    for name, t in summary["targets"].items():
        verdict = "met" if t["met"] else "NOT met"
        print(f"  {name:<28} target {t['target']:<8} measured {t['measured']}  {verdict}")


def targets(runs: list[dict]) -> dict:
    out = {}
    on = next((r for r in runs if r["tutor"]), None)
    off = next((r for r in runs if not r["tutor"]), None)
    main_run = off or on
    answer = main_run["endpoints"].get("answer", {})
    if "p95_ms" in answer:
        out["answer_p95_ms"] = (answer["p95_ms"], answer["p95_ms"] <= TARGETS["answer_p95_ms"])
    if main_run.get("minimal_view_rps"):
        ratio = round(main_run["answer_rps_saturated"] / main_run["minimal_view_rps"], 3)
        out["answer_vs_minimal_rps"] = (ratio, ratio >= TARGETS["answer_vs_minimal_rps"])
    errors = sum(s["errors"] for r in runs for s in r["endpoints"].values())
    out["errors"] = (errors, errors == 0)
    if on:
        for endpoint, target in (
            ("tutor first words", "tutor_first_text_p95_s"),
            ("tutor reply", "tutor_reply_p95_s"),
        ):
            measured = on["endpoints"].get(endpoint, {})
            if "p95_ms" in measured:
                seconds = round(measured["p95_ms"] / 1000, 3)
                out[target] = (seconds, seconds <= TARGETS[target])
    if on and off:
        before, after = off["endpoints"].get("pages (all)", {}), on["endpoints"].get("pages (all)", {})
        if before.get("p95_ms") and after.get("p95_ms"):
            ratio = round(after["p95_ms"] / before["p95_ms"], 3)
            out["pages_slower_with_tutor"] = (ratio, ratio <= TARGETS["pages_slower_with_tutor"])
    return {k: {"measured": v[0], "target": TARGETS.get(k, 0), "met": bool(v[1])} for k, v in out.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    p.add_argument("--learners", type=int, default=50)
    p.add_argument("--duration", type=float, default=300.0, help="seconds of the learner phase")
    p.add_argument(
        "--think",
        type=float,
        default=10.0,
        help="seconds a learner spends per question (mean; 10: 5-15 s, a quick human pace; 2: a stress test)",
    )
    p.add_argument("--arrive", type=float, default=10.0, help="seconds over which the learners arrive")
    p.add_argument("--saturate", type=float, default=20.0, help="seconds of each saturation run (0: none)")
    p.add_argument("--clients", type=int, default=8, help="closed-loop clients in the saturation runs")
    p.add_argument("--tutor", choices=("off", "on", "compare"), default="off")
    p.add_argument("--checkpoint", default=None, help="the tutor model (default: the default tutor)")
    p.add_argument("--tutor-workers", type=int, default=1)
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    p.add_argument("--course", default="fractions-to-linear-equations")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not (port_open("127.0.0.1", 5432) and port_open("127.0.0.1", 6379)):
        p.error("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running")
    if os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] != DB_NAME:
        p.error("run it as python -m benchmarks.load (it sets its own database first)")
    redis_url = os.environ["REDIS_URL"]
    env = _env()
    checkpoint = None
    if args.tutor != "off":
        store = Path(os.environ.get("RAMP_MODEL_STORE", ROOT / "var" / "models"))
        checkpoint = Path(args.checkpoint) if args.checkpoint else store / "default" / "tutor"
        if not (checkpoint / "model.safetensors").exists():
            p.error(f"no tutor checkpoint at {checkpoint} (train one: python manage.py train_default_tutor)")
    started = time.time()
    print(f"load: fresh database {DB_NAME}, Redis db {REDIS_DB}", flush=True)
    _fresh_database()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    _manage(env, "migrate", "--noinput")
    _manage(env, "load_demo", "--no-model")
    slug, sessions = setup_data(args)
    runs = []
    for tutor in {"off": [False], "on": [True], "compare": [False, True]}[args.tutor]:
        set_model(checkpoint if tutor else None)
        print(
            f"load: {args.learners} learners for {args.duration:.0f} s, tutor {'on' if tutor else 'off'}",
            flush=True,
        )
        runs.append(phase(args, env, slug, sessions, tutor=tutor))
    summary = {
        "benchmark": "load",
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "learners": args.learners,
        "duration_s": args.duration,
        "think_s": args.think,
        "arrive_s": args.arrive,
        "web": f"gunicorn {args.web_workers} workers x {args.threads} threads",
        "checkpoint": str(checkpoint) if checkpoint else None,
        "runs": runs,
        "targets": targets(runs),
        "wall_s": round(time.time() - started, 1),
    }
    report(summary)
    print(json.dumps(summary, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
