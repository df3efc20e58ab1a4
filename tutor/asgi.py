"""ASGI entry point, for servers that stream (e.g. `uvicorn tutor.asgi:application`)."""

import os

from django.core.asgi import get_asgi_application

from tutor.env import EnvError, exit_on_env_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
try:
    application = get_asgi_application()
except EnvError as error:
    exit_on_env_error(error)
