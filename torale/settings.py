"""Django settings for Torale. Every value comes from the environment (see .env.example).

Defaults run on a laptop with nothing installed: SQLite, an in-process cache and a
filesystem Celery broker. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

from pathlib import Path

from torale.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
    load_dotenv,
)

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

# Everything the laptop default writes (SQLite file, broker folders) lives here.
VAR_DIR = env_path("TORALE_VAR_DIR", BASE_DIR / "var", base_dir=BASE_DIR)

DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY the system check torale.E001 stops start-up unless DEBUG is on.
SECRET_KEY = env_str("SECRET_KEY") or ("insecure-development-key" if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public address of the site, used in links inside emails and webhooks.
TORALE_BASE_URL = env_str("TORALE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "torale.apps.ToraleAdminConfig",  # django.contrib.admin with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI served from our own static files: /api/docs works offline.
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "torale.apps.ToraleConfig",
    "tasks_app.apps.TasksAppConfig",
    "executions_app.apps.ExecutionsAppConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "torale.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "torale.urls"
WSGI_APPLICATION = "torale.wsgi.application"
# The API answers with and without a trailing slash itself; no redirects.
APPEND_SLASH = False
# The largest request body the API reads (a task is a few kilobytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TORALE_MAX_BODY_BYTES", 1_048_576, minimum=1024)

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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'torale.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL, base_dir=BASE_DIR)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
# A `SELECT 1` before reusing a connection survives database restarts at one round trip per
# request; turn off where every request counts and restarts are rare.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one SQLite file on a laptop: wait for locks, don't fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "torale.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The pages (templates/): sign-in and where it leads.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static", base_dir=BASE_DIR)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the apps without collectstatic (laptop and tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Redis: cache, rate-limit counters and the Celery broker -----------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "torale",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["torale.api.authentication.ApiKeyOrSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["torale.api.parsers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "EXCEPTION_HANDLER": "torale.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "torale.api.schema.ToraleAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Torale API",
    "DESCRIPTION": (
        "Watch the web for conditions you care about. Authenticate with "
        "`Authorization: Bearer sk_...`; create keys at /auth/api-keys or with "
        "`manage.py createapikey`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaskStateEnum": "tasks_app.models.TaskState",
        "NotifyBehaviorEnum": "tasks_app.models.NotifyBehavior",
        "ExecutionStatusEnum": "executions_app.models.ExecutionStatus",
        "ChannelKindEnum": "executions_app.models.ChannelKind",
        "DeliveryStatusEnum": "executions_app.models.DeliveryStatus",
    },
}

# --- Rate limits per API key (requests per window) --------------------------------------
TORALE_RATE_LIMITS = {
    "minute": env_int("TORALE_RATE_LIMIT_PER_MINUTE", 100, minimum=1),
    "hour": env_int("TORALE_RATE_LIMIT_PER_HOUR", 1000, minimum=1),
    "day": env_int("TORALE_RATE_LIMIT_PER_DAY", 10000, minimum=1),
}
TORALE_RATE_LIMIT_ENABLED = env_bool("TORALE_RATE_LIMIT_ENABLED", True)
# Previews and suggestions one account may have running at once (each holds a web thread).
TORALE_PROVIDER_CALLS_PER_ACCOUNT = env_int("TORALE_PROVIDER_CALLS_PER_ACCOUNT", 2, minimum=1)
# How stale an API key's last_used_at may get before a request writes it again.
TORALE_API_KEY_TOUCH_SECONDS = env_int("TORALE_API_KEY_TOUCH_SECONDS", 60, minimum=0)

# --- Celery ---------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
else:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A run is acknowledged only when it finished; a worker that dies mid-run gives it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("TORALE_RUN_SOFT_TIME_LIMIT", 240, minimum=10)
CELERY_TASK_TIME_LIMIT = env_int("TORALE_RUN_TIME_LIMIT", 300, minimum=15)
# Publishing must never hang a web request when the broker is down.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Search provider (Gemini) ------------------------------------------------------------
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
GEMINI_MODEL = env_str("GEMINI_MODEL", "gemini-2.5-flash")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL")
GEMINI_TIMEOUT_SECONDS = env_float("GEMINI_TIMEOUT_SECONDS", 60.0)
# API version in the request path (v1, v1beta); empty: the SDK's default.
GEMINI_API_VERSION = env_str("GEMINI_API_VERSION")

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Torale <torale@localhost>")

# --- Security for deployments -------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TORALE_BEHIND_TLS_PROXY", False) else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Scheduler and runs ----------------------------------------------------------------------
# The one beat process holds this lock; a second beat waits and takes over within the TTL.
TORALE_LEADER_TTL_SECONDS = env_int("TORALE_LEADER_TTL_SECONDS", 15, minimum=3)
# Due tasks advanced per database transaction, and slots carried by one dispatch message.
TORALE_SCHEDULER_BATCH_SIZE = env_int("TORALE_SCHEDULER_BATCH_SIZE", 20000, minimum=1)
TORALE_SCHEDULER_CHUNK_SIZE = env_int("TORALE_SCHEDULER_CHUNK_SIZE", 100, minimum=1)
# Attempts of one run (first try included) on transient provider errors or worker loss.
TORALE_RUN_MAX_ATTEMPTS = env_int("TORALE_RUN_MAX_ATTEMPTS", 4, minimum=1)
# Backoff before retry n: base * 2**(n-1), +-25% jitter, capped.
TORALE_RUN_RETRY_BASE_SECONDS = env_float("TORALE_RUN_RETRY_BASE_SECONDS", 20.0)
TORALE_RUN_RETRY_MAX_SECONDS = env_float("TORALE_RUN_RETRY_MAX_SECONDS", 600.0)
# How long a claimed run belongs to its worker before the reaper hands it on.
TORALE_RUN_LEASE_SECONDS = env_int(
    "TORALE_RUN_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=CELERY_TASK_TIME_LIMIT + 1
)
# A pending run not picked up for this long is published again; after the deadline, failed.
TORALE_RUN_REPUBLISH_SECONDS = env_int("TORALE_RUN_REPUBLISH_SECONDS", 300, minimum=10)
TORALE_RUN_PENDING_DEADLINE_SECONDS = env_int(
    "TORALE_RUN_PENDING_DEADLINE_SECONDS", 3600, minimum=60
)
TORALE_REAPER_INTERVAL_SECONDS = env_int("TORALE_REAPER_INTERVAL_SECONDS", 60, minimum=1)

# --- Notification deliveries (the outbox) -----------------------------------------------------
# Attempts of one delivery (first try included) on network errors, 5xx and 429.
TORALE_DELIVERY_MAX_ATTEMPTS = env_int("TORALE_DELIVERY_MAX_ATTEMPTS", 6, minimum=1)
# Backoff before retry n: base * 2**(n-1), +-25% jitter, capped; a longer Retry-After wins.
TORALE_DELIVERY_RETRY_BASE_SECONDS = env_float("TORALE_DELIVERY_RETRY_BASE_SECONDS", 30.0)
TORALE_DELIVERY_RETRY_MAX_SECONDS = env_float("TORALE_DELIVERY_RETRY_MAX_SECONDS", 3600.0)
# Hard limit of one send; the lease (how long a claimed delivery belongs to its worker) is
# longer, so a live worker is never overtaken by a second sender.
TORALE_DELIVERY_TIME_LIMIT_SECONDS = env_int("TORALE_DELIVERY_TIME_LIMIT_SECONDS", 90, minimum=5)
TORALE_DELIVERY_LEASE_SECONDS = env_int(
    "TORALE_DELIVERY_LEASE_SECONDS",
    TORALE_DELIVERY_TIME_LIMIT_SECONDS + 30,
    minimum=TORALE_DELIVERY_TIME_LIMIT_SECONDS + 1,
)
# Notifications one user may receive in 24 hours, all channels together; beyond it, deliveries
# are recorded as skipped, so a runaway task cannot spam anyone.
TORALE_NOTIFICATIONS_PER_DAY = env_int("TORALE_NOTIFICATIONS_PER_DAY", 200, minimum=1)
# Fernet key for secrets stored encrypted (webhook secrets, Apprise URLs). Unset: derived from
# SECRET_KEY. Rotate by moving the old key to the fallbacks.
TORALE_ENCRYPTION_KEY = env_str("TORALE_ENCRYPTION_KEY")
TORALE_ENCRYPTION_KEY_FALLBACKS = env_list("TORALE_ENCRYPTION_KEY_FALLBACKS", [])

CELERY_BEAT_SCHEDULE = {
    "torale-reap-executions": {
        "task": "torale.executions.reap",
        "schedule": float(TORALE_REAPER_INTERVAL_SECONDS),
    },
}
CELERY_BEAT_SCHEDULER = "tasks_app.scheduler:TaskScheduler"
# An unacknowledged message (its worker died) comes back after this; above the longest run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TORALE_RUN_LEASE_SECONDS + 60}

# --- Outbound notifications (webhooks, Apprise) ------------------------------------------------
# Loopback, private and link-local targets are refused unless the operator allows them (tests,
# local development). Metadata, multicast and reserved addresses are refused always.
TORALE_ALLOW_PRIVATE_WEBHOOKS = env_bool("TORALE_ALLOW_PRIVATE_WEBHOOKS", False)
# CIDRs allowed even while private targets are refused (one internal receiver, say).
TORALE_WEBHOOK_ALLOWED_NETWORKS = env_list("TORALE_WEBHOOK_ALLOWED_NETWORKS", [])
TORALE_WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_float("TORALE_WEBHOOK_CONNECT_TIMEOUT_SECONDS", 5.0)
TORALE_WEBHOOK_READ_TIMEOUT_SECONDS = env_float("TORALE_WEBHOOK_READ_TIMEOUT_SECONDS", 10.0)
TORALE_WEBHOOK_TOTAL_TIMEOUT_SECONDS = env_float("TORALE_WEBHOOK_TOTAL_TIMEOUT_SECONDS", 30.0)
TORALE_WEBHOOK_MAX_REDIRECTS = env_int("TORALE_WEBHOOK_MAX_REDIRECTS", 3, minimum=0)
TORALE_WEBHOOK_MAX_RESPONSE_BYTES = env_int(
    "TORALE_WEBHOOK_MAX_RESPONSE_BYTES", 65536, minimum=1024
)
