"""Fill a fresh web process's caches before it takes requests.

A new process builds, on the first requests that need them, each published course's graph
(``learner.graph_from_db``) and structure (``courses.structure``), the solutions of each
template's constraints (``courses.variants``), and the compiled page templates: about a second
of CPU for the seed ramps, paid by the first learners, all at once when a process starts under
load. gunicorn calls this once per worker before it serves (``tutor/gunicorn_conf.py``).
"""

import logging
import threading
import time

from django.db import connection
from django.template.loader import get_template

from courses.models import Course, Item
from courses.spec_json import item_from_json
from courses.structure import course_structure
from courses.variants import VariantError, draw_variant
from learner.graph_from_db import course_graph_for

log = logging.getLogger(__name__)

TEMPLATES = ("tutor/study.html", "base.html")


def warm_caches() -> dict:
    """Build what the study loop reads of every published course; returns what it did."""
    start = time.perf_counter()
    courses = items = 0
    for course in Course.objects.filter(status=Course.Status.PUBLISHED):
        course_graph_for(course)
        course_structure(course)
        for item in Item.objects.filter(
            concept__course=course, retired_at__isnull=True, is_template=True
        ).select_related("current_version"):
            try:
                draw_variant(item_from_json(item.current_version.spec), 1)
            except VariantError:  # the ramp's checks report it; serving draws another seed
                continue
            items += 1
        courses += 1
    for name in TEMPLATES:
        get_template(name)
    seconds = round(time.perf_counter() - start, 2)
    log.info("warmed %d courses, %d templates in %.2f s", courses, items, seconds)
    return {"courses": courses, "templates": items, "seconds": seconds}


def warm_caches_at_start() -> None:
    """:func:`warm_caches` in a thread of its own, whose database connection is closed after
    (the worker's threads that serve requests have theirs); a failure is logged, never fatal:
    the caches then fill on the first requests, as before."""

    def run():
        try:
            warm_caches()
        except Exception:
            log.exception("warming the caches failed: they fill on the first requests")
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="ramp-warmup")
    thread.start()
    thread.join()
