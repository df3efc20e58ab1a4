"""WSGI entry point: `gunicorn tutor.wsgi` (see README "Deploying")."""

import os

from django.core.wsgi import get_wsgi_application

from tutor.env import EnvError, exit_on_env_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
try:
    application = get_wsgi_application()
except EnvError as error:
    exit_on_env_error(error)
