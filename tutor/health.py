"""Health of the pieces Ramp depends on, for /healthz and the admin dashboard.

Cheap by construction: the database answers `SELECT 1`, the broker a ping, and the workers
are read from the records they refresh themselves (tutor/worker_presence.py) instead of being
pinged. Per queue in settings.RAMP_HEALTH_QUEUES, at least one live worker must consume it.
Anyone may ask whether Ramp is up (:func:`public_health`, cached a few seconds per process,
naming only the parts that fail); the details (worker host names, the database, timings, the
active model) are for admins (:func:`system_health`).
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from models_train.api import active_model_version
from tutor.worker_presence import workers_present

PUBLIC_CACHE_SECONDS = 5.0


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


def _queue_checks(broker_ok: bool) -> list[Check]:
    queues = list(settings.RAMP_HEALTH_QUEUES)
    if not broker_ok:
        return [Check(f"queue {q}", False, "not checked: the broker is down", 0.0) for q in queues]
    start = time.perf_counter()
    try:
        workers = workers_present()
    except Exception as error:
        detail = f"worker records unreadable: {type(error).__name__}: {error}"
        return [Check(f"queue {q}", False, detail, 0.0) for q in queues]
    ms = round((time.perf_counter() - start) * 1000, 1)
    checks = []
    for queue in queues:
        names = [w["hostname"] for w in workers if queue in w.get("queues", ())]
        detail = ", ".join(names) if names else "no worker consumes this queue"
        checks.append(Check(f"queue {queue}", bool(names), detail, ms))
    return checks


def system_health(*, include_workers: bool = True) -> dict:
    """Every check with its detail (for admins)."""
    checks = [_timed("database", _database), _timed("broker", _broker)]
    if include_workers:
        checks.extend(_queue_checks(checks[-1].ok))
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


_public: tuple[float, dict] | None = None
_public_lock = threading.Lock()


def public_health() -> dict:
    """Up or not, and which parts fail, nothing more; computed at most every
    PUBLIC_CACHE_SECONDS per process, so polling it costs nothing."""
    global _public
    with _public_lock:
        if _public is None or time.monotonic() - _public[0] > PUBLIC_CACHE_SECONDS:
            report = system_health()
            _public = (time.monotonic(), {"status": report["status"], "failing": report["failing"]})
        return dict(_public[1])


def public_health_forget() -> None:
    """Drop the cached answer (tests)."""
    global _public
    with _public_lock:
        _public = None
