"""Settings come from the environment; mistakes stop start-up with one clear line."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    # The test process's own switches (settings module, async-unsafe for Playwright) must
    # not leak into the command under test.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG: expected one of 1/0"),
        (
            "DATABASE_URL",
            "mysql://root@localhost/ramp",
            "DATABASE_URL: expected a URL starting with sqlite://",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: expected a URL starting with redis://"),
        ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS: expected a comma-separated list"),
        ("RAMP_LOGIN_FAILURE_LIMIT", "five", "RAMP_LOGIN_FAILURE_LIMIT: expected a whole number"),
        ("SECRET_KEY", "short", "SECRET_KEY: expected a random string of at least 32 characters"),
    ],
)
def test_bad_environment_value_stops_with_one_line(variable, value, expected):
    result = run_manage("check", **{variable: value})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert expected in lines[0]


def test_production_settings_need_a_secret_key():
    env = {"DJANGO_SETTINGS_MODULE": "tutor.settings_production", "SECRET_KEY": ""}
    result = run_manage("check", **env)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="tutor.settings_production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="0",
        ALLOWED_HOSTS="ramp.example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_debug():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="tutor.settings_production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="1",
    )
    assert result.returncode == 2
    assert "DEBUG: expected false in production" in result.stderr


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("4", "4")])
def test_web_processes_use_one_blas_thread_unless_told_otherwise(given, expected):
    """OpenBLAS's own threads, spinning beside the requests on the same cores, made
    placement's small matrix work slow and erratic under load (tutor/wsgi.py)."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    env = {k: v for k, v in os.environ.items() if k not in (*names, "DJANGO_SETTINGS_MODULE")}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    probe = (
        "import os, sys; import tutor.wsgi; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'], 'numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # set before numpy is loaded (the app loads it with its views), so OpenBLAS reads them
    assert result.stdout.split() == [expected, "1", "False"]
