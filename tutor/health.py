"""Health of the pieces Ramp depends on, for /healthz and the admin dashboard."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from models_train.api import active_model_version


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    ms: float


def _timed(name: str, probe) -> Check:
    start = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as error:  # a health probe reports every failure, never raises
        detail, ok = f"{type(error).__name__}: {error}", False
    return Check(name, ok, detail, round((time.perf_counter() - start) * 1000, 1))


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "redis"
    folder = settings.BROKER_DIR / "queue"
    if not folder.is_dir():
        raise RuntimeError(f"broker folder {folder} is missing")
    return "filesystem (no Redis configured)"


def _workers() -> str:
    from tutor.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no worker answered within 1 s")
    return ", ".join(sorted(name for reply in replies for name in reply))


def system_health(*, include_workers: bool = True) -> dict:
    checks = [_timed("database", _database), _timed("broker", _broker)]
    broker_ok = checks[-1].ok
    if include_workers:
        if broker_ok:
            checks.append(_timed("workers", _workers))
        else:
            checks.append(Check("workers", False, "not checked: the broker is down", 0.0))
    try:
        version = active_model_version()
        model = {"name": version.name, "created_at": version.created_at.isoformat()} if version else None
    except Exception as error:
        model = None
        checks.append(Check("model", False, f"{type(error).__name__}: {error}", 0.0))
    failing = [check.name for check in checks if not check.ok]
    return {
        "status": "ok" if not failing else "failing",
        "failing": failing,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for c in checks},
        "active_model_version": model,
    }
