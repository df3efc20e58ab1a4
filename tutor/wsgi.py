"""WSGI entry point: `gunicorn tutor.wsgi` (see README "Deploying")."""

import os

# One BLAS thread per web process, set before numpy loads. A request's matrix work is small
# (placement's particles: 1 666 × 36), and OpenBLAS's own threads, spinning beside the other
# requests and processes on the same cores, made it slow and erratic under load: placement's
# question choice p95 1.75 ms with one thread, 5.9 ms (max 65 ms) with OpenBLAS's default.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after the thread settings)

from tutor.env import EnvError, exit_on_env_error  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
try:
    application = get_wsgi_application()
except EnvError as error:
    exit_on_env_error(error)
