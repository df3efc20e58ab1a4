"""Shared fixtures: users per role, a real Celery worker, a headless Chromium.

The suite runs against the real services that `make test` arranges (PostgreSQL and
Redis when reachable). Tests that need Redis fail loudly without it rather than skip.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's guard against
# database calls from async code would otherwise trip on the ORM calls made by tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def make_user(db):
    from core.accounts.services import user_create

    counter = iter(range(1, 10_000))

    def make(role: str = "learner", *, username: str | None = None, password: str = "a-Strong-pass-123"):
        name = username or f"{role}{next(counter)}"
        return user_create(username=name, password=password, email=f"{name}@example.com", role=role)

    return make


@pytest.fixture
def learner(make_user):
    return make_user("learner")


@pytest.fixture
def educator(make_user):
    return make_user("educator")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


GOOD_RAMP = ROOT / "tests" / "courses" / "fixtures" / "good-ramp"


@pytest.fixture
def published_course(make_user):
    """The small test ramp, imported by an educator and published."""
    from courses.ramp_files import read_ramp
    from courses.ramp_import import course_import
    from courses.services import course_publish

    owner = make_user("educator")
    course = course_import(spec=read_ramp(GOOD_RAMP), user=owner).course
    course_publish(course=course)
    course.refresh_from_db()
    return course


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def require_redis() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("this test needs Redis: run it through `make test`, which provides one")
    return url


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real worker process on both queues, connected to real Redis and the test database."""
    redis_url = require_redis()
    import redis

    # Start from empty queues: a message left by an earlier run would point at rows that
    # no longer exist.
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    with django_db_blocker.unblock():
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
            # the tutor queue's model is the scripted stand-in (tests/tutor/scripted_tutor.py)
            "RAMP_TUTOR_MODEL_LOADER": "tests.tutor.scripted_tutor.ScriptedTutor",
        }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "celery-worker.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tutor",
            "worker",
            "-Q",
            "default,gpu,tutor",
            "-P",
            "solo",
            "-n",
            f"test-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from tutor.celery import app

    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {process.returncode}; see {log.name}")
        if app.control.ping(timeout=0.5):
            break
    else:
        process.terminate()
        pytest.fail(f"the Celery worker did not answer within 60 s; see {log.name}")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail("browser tests need Chromium: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    # A CSP violation or a script error shows up as a console error: fail on any.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
