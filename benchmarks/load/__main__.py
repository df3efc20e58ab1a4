"""Load benchmark: Ramp under many learners at once, on real services.

    python -m benchmarks.load                                   # 50 learners, 5 minutes
    python -m benchmarks.load --think 2                         # the same, at a stress pace
    python -m benchmarks.load --learners 10 --duration 120 --tutor compare   # tutor off, then on
    python -m benchmarks.load --learners 2 --duration 5 --saturate 2       # seconds (the tests)

It starts a stack of its own - gunicorn (``--web-workers`` processes of ``--threads``
threads), a default-queue Celery worker, and with the tutor on a ``tutor``-queue worker at a
lower CPU priority - on PostgreSQL (a database of its own, ``ramp_load``) and Redis (database
13), imports and publishes the seed ramps, and creates the learners. Then:

1. *saturation*: ``--saturate`` seconds of ``--clients`` closed-loop clients on the minimal
   view (``/livez``) and then on "submit answer -> next step", for the requests per second
   each reaches;
2. *learners*: ``--learners`` simulated learners for ``--duration`` seconds, each through
   placement and the study loop as a person would (arriving over the first ``--arrive``
   seconds, then a think time of ``--think`` seconds per question on average, right
   answers 70% of the time, a hint now and then, "I don't know" sometimes); with the tutor on,
   every wrong answer's reply is streamed as the page streams it (first words, whole reply).
   The default, 5-15 s to read a question, work it out and type the answer, is quick for a
   person; ``--think 2`` asks for answers about as fast as two cores serve them during
   placement, a stress test.

Reports requests/s and p50/p95/p99 per endpoint as the learners waited and as the server spent
it (gunicorn's access log), errors, the load average, and last one JSON line. ``--tutor
compare`` runs the learner phase twice, tutor off then on, and reports how much page requests
slowed (the p95 of the study loop's pages together, tutor on over off). The
tutor needs a trained checkpoint (``--checkpoint``, default the default tutor in
``RAMP_MODEL_STORE``); PostgreSQL and Redis must answer on 127.0.0.1.
"""

import os
from pathlib import Path

# The benchmark's own database, Redis database and state folder, set before anything imports the
# Django settings (importing the tutor package reads them, for the Celery app).
ROOT = Path(__file__).resolve().parents[2]
os.environ.update(
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/ramp_load",
    REDIS_URL="redis://127.0.0.1:6379/13",
    RAMP_VAR_DIR=str(ROOT / "var" / "load"),
    DEBUG="0",
    ALLOWED_HOSTS="127.0.0.1,localhost",
    DJANGO_SETTINGS_MODULE="tutor.settings",
)

from benchmarks.load.harness import main  # noqa: E402 (after the environment above)

if __name__ == "__main__":
    raise SystemExit(main())
