"""Ramp settings, read from the environment (see README "Configuration").

Defaults are for one developer machine: a SQLite file, DEBUG on, the broker chosen by
the run command. Production uses tutor.settings_production, which refuses the defaults
that are only safe on a laptop.
"""

import secrets
from pathlib import Path

import dj_database_url

from core.client_address import parse_networks
from tutor.env import EnvError, env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAMP_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _dev_secret_key() -> str:
    # A per-checkout random key, so a development database's sessions survive restarts
    # without anyone committing a key.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "") or _dev_secret_key()
if len(SECRET_KEY) < 32:
    raise EnvError("SECRET_KEY", "a random string of at least 32 characters", "<hidden>")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "core.accounts",
    "tutor",
    "courses",
    "learner",
    "models_train",
    "benchmarks",  # for its commands only: no app imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees logins after authentication middleware has run.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tutor.urls"
WSGI_APPLICATION = "tutor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.accounts.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL selects PostgreSQL in real deployments.
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'ramp.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so a Celery worker started by the tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures lock that username from that address for 15 minutes (the
# pair: a wrong password elsewhere locks neither the user out everywhere nor the address out
# for every user). Failures while locked don't extend the lockout, or an attacker could keep
# a user out for good.
AXES_FAILURE_LIMIT = env_int("RAMP_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address is the client's, not a proxy's (core/client_address.py). Behind a proxy every
# request comes from the proxy's address, so list the proxies whose X-Forwarded-For is believed;
# dangerous when wrong: a listed address that is not your proxy lets any client choose its
# own address. Empty (the default) believes no header.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
RAMP_TRUSTED_PROXIES = env_list("RAMP_TRUSTED_PROXIES", [])
try:
    parse_networks(RAMP_TRUSTED_PROXIES)
except ValueError as error:
    raise EnvError("RAMP_TRUSTED_PROXIES", "comma-separated IP addresses or networks", str(error)) from None

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ramp@localhost")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders unless collectstatic has been run.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

# Strict CSP: scripts and styles only from this site (htmx is served locally), no inline
# script or style, no eval (htmx's hx-on and indicator styles are switched off in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Broker: Redis when REDIS_URL is set; otherwise a filesystem broker under var/ so one
# machine works with nothing installed (the run command says which it uses).
REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest training run, or Redis redelivers a task that is
        # still running to a second worker.
        "visibility_timeout": env_int("RAMP_VISIBILITY_TIMEOUT", 7 * 24 * 3600, minimum=60),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = "default"
# /healthz answers 200 only while each of these queues has a live worker (tutor/health.py).
RAMP_HEALTH_QUEUES = env_list("RAMP_HEALTH_QUEUES", ["default", "gpu", "tutor"])
if not set(RAMP_HEALTH_QUEUES) <= {"default", "gpu", "tutor"}:
    raise EnvError(
        "RAMP_HEALTH_QUEUES", "queue names among default, gpu, tutor", ",".join(RAMP_HEALTH_QUEUES)
    )
CELERY_TASK_ROUTES = {"models_train.tasks.*": {"queue": "gpu", "routing_key": "gpu"}}
# A task is acknowledged only when it finishes, and given back if its worker dies, so a
# killed training worker's run is picked up again (and resumes from its checkpoint).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Results live in Ramp's own tables (runs, checks), never in the broker.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Refit the knowledge model of every published course from its response log.
CELERY_BEAT_SCHEDULE = {
    "calibrate-courses": {
        "task": "learner.tasks.calibrate_all_courses",
        "schedule": env_int("RAMP_CALIBRATION_SECONDS", 6 * 3600, minimum=60),
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Sessions in the database and a per-process cache: pages keep working when the broker
# (Redis) goes away.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Placements' particles, shared by the web processes (learner/placement_store.py), in Redis
# when there is one; without it each process keeps its own (one web process, as `make run`
# starts, loses nothing).
if REDIS_URL:
    CACHES["placement"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ramp",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }

RAMP_MODEL_STORE = Path(env_str("RAMP_MODEL_STORE", str(VAR_DIR / "models")))

# Training runs (models_train/training.py) write a heartbeat this often. A run silent for
# RAMP_TRAINING_LOST_SECONDS is taken for lost (its whole worker died, so the broker keeps its
# task until the visibility timeout) and queued again to resume from its checkpoints; checked
# on the beat schedule and whenever a gpu worker starts. Keep it well above the heartbeat: a
# busy CPU delays beats, and a live run wrongly taken for lost restarts from a checkpoint.
RAMP_TRAINING_HEARTBEAT_SECONDS = env_int("RAMP_TRAINING_HEARTBEAT_SECONDS", 5, minimum=1)
RAMP_TRAINING_LOST_SECONDS = env_int("RAMP_TRAINING_LOST_SECONDS", 60, minimum=10)
# Watched twice per lost period, so a lost run waits at most 1.5 periods to be taken back.
CELERY_BEAT_SCHEDULE["watch-training-runs"] = {
    "task": "models_train.tasks.watch_training_runs",
    "schedule": RAMP_TRAINING_LOST_SECONDS / 2,
}
# an exact name wins over the gpu pattern above: the gpu workers may be the ones that died
CELERY_TASK_ROUTES["models_train.tasks.watch_training_runs"] = {"queue": "default", "routing_key": "default"}
# The eval gate (models_train/gate.py): promoting a version whose metrics fail a check needs
# an admin's reason, which is recorded. (dotted path into ModelVersion.metrics, comparison
# >= > <= <, value, what it measures); a metric the version's report lacks is "not measured"
# and fails. ramp_*: the held-out ramp dialogues of train_default_tutor's evaluation (the CPU
# default tutor: reveal ~0.04, probing ~0.3-0.4, verified ~0.08-0.2); serving.*: the evaluation
# of the production path (generation, guards and fallbacks).
RAMP_PROMOTION_GATE = [
    ("ramp_replies.model.reveal_rate", "<=", 0.05, "held-out mistake replies that reveal the answer"),
    ("ramp_replies.model.probing_rate", ">=", 0.25, "held-out mistake replies that probe"),
    ("ramp_practice_constrained.model.verified_rate", ">=", 0.05, "held-out practice questions verified"),
    ("serving.mistake.served_share", ">=", 0.8, "mistake replies served from the model"),
    ("serving.reveal_after_guard", "<=", 0.0, "served replies that reveal the answer"),
    ("serving.mistake.probing", ">=", 0.7, "served mistake replies that probe the misconception"),
    ("serving.practice.verified", ">=", 1.0, "served practice questions the checker verified"),
]

# The tutor model speaking in the study loop (tutor/speaking.py). Generation runs on the
# `tutor` queue; at most RAMP_TUTOR_MAX_PENDING messages wait or stream at once (beyond that a
# learner gets the authored text at once), and a message not finished within
# RAMP_TUTOR_MESSAGE_SECONDS (or without a first word within RAMP_TUTOR_FIRST_TEXT_SECONDS)
# is replaced by the authored text. A learner may ask RAMP_TUTOR_CHAT_LIMIT questions per
# RAMP_TUTOR_CHAT_WINDOW_SECONDS.
CELERY_TASK_ROUTES["tutor.tasks.tutor_message_speak"] = {"queue": "tutor", "routing_key": "tutor"}
RAMP_TUTOR_MAX_PENDING = env_int("RAMP_TUTOR_MAX_PENDING", 16, minimum=1)
RAMP_TUTOR_FIRST_TEXT_SECONDS = env_int("RAMP_TUTOR_FIRST_TEXT_SECONDS", 4, minimum=1)
RAMP_TUTOR_MESSAGE_SECONDS = env_int("RAMP_TUTOR_MESSAGE_SECONDS", 12, minimum=2)
RAMP_TUTOR_CHAT_LIMIT = env_int("RAMP_TUTOR_CHAT_LIMIT", 12, minimum=1)
RAMP_TUTOR_CHAT_WINDOW_SECONDS = env_int("RAMP_TUTOR_CHAT_WINDOW_SECONDS", 600, minimum=10)
RAMP_TUTOR_QUESTION_CHARS = 500
# The pool of practice questions the model writes (tutor/practice_pool.py): this many verified
# questions per concept and difficulty, topped up this often on the tutor queue.
RAMP_PRACTICE_POOL_SIZE = env_int("RAMP_PRACTICE_POOL_SIZE", 4, minimum=0)
CELERY_TASK_ROUTES["tutor.tasks.practice_pool_refill"] = {"queue": "tutor", "routing_key": "tutor"}
# The conversations learners share become training data (tutor/conversations.py), daily.
CELERY_BEAT_SCHEDULE["export-conversations"] = {
    "task": "tutor.tasks.export_conversations",
    "schedule": 24 * 3600,
}
CELERY_BEAT_SCHEDULE["practice-pool"] = {
    "task": "tutor.tasks.practice_pool_refill_all",
    "schedule": env_int("RAMP_PRACTICE_POOL_SECONDS", 900, minimum=60),
}
# What turns a model version's checkpoint into a tutor that speaks (the browser tests point
# their worker at a scripted stand-in; everything else uses the real model).
RAMP_TUTOR_MODEL_LOADER = env_str("RAMP_TUTOR_MODEL_LOADER", "models_train.serving.TutorModel")
# Composed decoding (models_train/composing.py): the model writes its replies out of whole
# sentences of its prompt's authored candidates, the learner's words and the tutor's phrases.
# On for the small default model, which garbles what it copies otherwise; a larger model may
# be served free (0).
RAMP_TUTOR_COMPOSED_DECODING = env_bool("RAMP_TUTOR_COMPOSED_DECODING", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
