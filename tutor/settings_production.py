"""Production settings: tutor.settings plus what only matters behind HTTPS.

Use with DJANGO_SETTINGS_MODULE=tutor.settings_production. `manage.py check --deploy`
passes with no warnings (tested in tests/tutor/test_settings.py).
"""

import os

from tutor.env import EnvError

if not os.environ.get("SECRET_KEY"):
    # A key generated on disk is fine for a laptop, never for a server that others reach.
    raise EnvError("SECRET_KEY", "a random secret of at least 50 characters in production")

from tutor.settings import *  # noqa: E402,F403

if DEBUG:  # noqa: F405
    raise EnvError("DEBUG", "false in production (tracebacks would be shown to anyone)", "true")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:  # noqa: F405
    raise EnvError("SECRET_KEY", "a random secret of at least 50 characters in production", "<hidden>")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Collected, hashed, compressed static files (run `manage.py collectstatic` when deploying).
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
