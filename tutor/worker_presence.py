"""Which Celery workers are up, and on which queues: each worker says so itself.

A worker's main process writes a small record (host name, queues it consumes, pid, time) every
HEARTBEAT_SECONDS, which expires after STALE_SECONDS: in Redis under `ramp:worker:<name>`
(with the filesystem broker, as a file under var/broker/workers/). A worker that stops cleanly
removes it; one that dies stops refreshing it and drops out within STALE_SECONDS. Reading the
records is one Redis round trip, so /healthz never waits for workers to answer a ping (a
broadcast that always took its full second, and that an anonymous loop could repeat at will).

Wired to Celery's worker_ready and worker_shutdown signals in tutor/celery.py; the thread runs
in the worker's main process, beside its pool, so a busy pool child doesn't silence it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
STALE_SECONDS = 30
KEY_PREFIX = "ramp:worker:"


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)


def _folder() -> Path:
    return Path(settings.BROKER_DIR) / "workers"


def _safe_name(hostname: str) -> str:
    return "".join(c if c.isalnum() or c in "@.-_" else "_" for c in hostname)


def presence_write(*, hostname: str, queues: list[str]) -> None:
    """Say that `hostname` is up and consumes `queues`, for the next STALE_SECONDS."""
    record = json.dumps(
        {"hostname": hostname, "queues": sorted(queues), "pid": os.getpid(), "at": time.time()}
    )
    if settings.REDIS_URL:
        client = _redis()
        try:
            client.set(KEY_PREFIX + hostname, record, ex=STALE_SECONDS)
        finally:
            client.close()
        return
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe_name(hostname)}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(record)
    temporary.replace(path)


def presence_clear(*, hostname: str) -> None:
    """`hostname` has stopped."""
    if settings.REDIS_URL:
        client = _redis()
        try:
            client.delete(KEY_PREFIX + hostname)
        finally:
            client.close()
        return
    (_folder() / f"{_safe_name(hostname)}.json").unlink(missing_ok=True)


def workers_present() -> list[dict]:
    """The records of the workers that are up (raises when the store can't be read)."""
    if settings.REDIS_URL:
        client = _redis()
        try:
            keys = list(client.scan_iter(match=KEY_PREFIX + "*", count=1000))
            values = client.mget(keys) if keys else []
        finally:
            client.close()
        records = [json.loads(v) for v in values if v]
    else:
        now = time.time()
        records = []
        for path in sorted(_folder().glob("*.json")) if _folder().is_dir() else []:
            try:
                if now - path.stat().st_mtime <= STALE_SECONDS:
                    records.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # removed or half-written meanwhile
    return sorted(records, key=lambda r: r.get("hostname", ""))


class Heartbeat:
    """Writes a worker's record every HEARTBEAT_SECONDS until stopped (a daemon thread)."""

    def __init__(self, hostname: str, queues: Callable[[], list[str]]):
        self.hostname = hostname
        self.queues = queues
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ramp-worker-presence", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                presence_write(hostname=self.hostname, queues=self.queues())
            except Exception as error:  # the broker may be away a while; keep trying
                log.warning("worker presence not written: %s: %s", type(error).__name__, error)
            self._stop.wait(HEARTBEAT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            presence_clear(hostname=self.hostname)
        except Exception as error:  # it expires on its own
            log.warning("worker presence not cleared: %s: %s", type(error).__name__, error)


_heartbeat: Heartbeat | None = None


def on_worker_ready(sender=None, **kwargs) -> None:
    """Celery's worker_ready: `sender` is the worker's consumer."""
    global _heartbeat

    def queues() -> list[str]:
        consumer = getattr(sender, "task_consumer", None)
        if consumer is not None:
            return [q.name for q in consumer.queues]
        return list(sender.app.amqp.queues.consume_from)

    _heartbeat = Heartbeat(sender.hostname, queues).start()


def on_worker_shutdown(sender=None, **kwargs) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None
