"""Placements' particles shared by the web processes, so an answer never replays placement.

A placement is stored as its settings and answers (``Enrollment.placement``, a few hundred
bytes) and rebuilt by replaying them, which costs 100-200 ms of CPU after a dozen answers.
Each process keeps recent placements in memory, but a learner's answers land on whichever
process is free, so the particles after each answer are also kept in the ``placement`` cache
(Redis, configured when ``REDIS_URL`` is set: see tutor/settings.py). Each answer's state
replaces the one before it, and a state unused for SECONDS expires: Redis holds about 20 KB
per learner in placement. The store is only a shortcut: a miss, an evicted key or Redis being
away means a replay, never a wrong placement, since the replay is deterministic.
"""

import logging

from django.conf import settings
from django.core.cache import caches

from courses.models import Course
from learner.placement import PlacementStore

log = logging.getLogger(__name__)

SECONDS = 6 * 3600  # a learner back after longer replays their placement


class CoursePlacementStore:
    """The store of one course version's placements (the graph is part of the key)."""

    def __init__(self, course: Course):
        self.prefix = f"placement:{course.pk}:{course.updated_at.timestamp():.6f}:"

    def get(self, key: str) -> bytes | None:
        try:
            return caches["placement"].get(self.prefix + key)
        except Exception as error:  # a shortcut only: without it the placement is replayed
            log.warning("placement store unavailable (%s): replaying", error)
            return None

    def put(self, key: str, data: bytes, *, replaces: str | None = None) -> None:
        try:
            cache = caches["placement"]
            cache.set(self.prefix + key, data, SECONDS)
            if replaces is not None:
                cache.delete(self.prefix + replaces)
        except Exception as error:
            log.warning("placement store unavailable (%s): not shared", error)


def placement_store_for(course: Course) -> PlacementStore | None:
    """The shared store of ``course``'s placements; None without Redis (each process then
    keeps its own, learner.placement's in-process cache)."""
    return CoursePlacementStore(course) if "placement" in settings.CACHES else None
