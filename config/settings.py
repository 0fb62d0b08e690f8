"""Project settings: everything configurable comes from the environment (django-environ).

Two modes, chosen by what is set:
- embedded (no DATABASE_URL / REDIS_URL): SQLite in var/, Celery over kombu's filesystem
  transport, in-memory channel layer, local-memory cache. For the quick start only.
- production / tests: PostgreSQL from DATABASE_URL, Redis from REDIS_URL for Celery broker,
  Channels layer and cache.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
# The placeholders of .env.example and the k8s secret template start like this: a server must
# never run on them, so they are refused like a short key.
SECRET_KEY_PLACEHOLDER_PREFIXES = ("change-me", "changeme", "replace", "django-insecure-")


def _production_secret_key(value: str) -> str:
    """The key, or ImproperlyConfigured when a server (DEBUG off) must not start with it."""
    generate = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    if not value:
        problem = "SECRET_KEY is required when DEBUG is off"
    elif value.lower().startswith(SECRET_KEY_PLACEHOLDER_PREFIXES):
        problem = "SECRET_KEY is still the example placeholder"
    elif len(value) < 50 or len(set(value)) < 5:  # the bar of Django's own deploy check
        problem = "SECRET_KEY is too weak (needs 50+ characters, 5+ distinct)"
    else:
        return value
    raise ImproperlyConfigured(f"{problem}; {generate}")


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-only-secret-key-change-me")
else:
    SECRET_KEY = _production_secret_key(env.str("SECRET_KEY", default=""))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS behind a TLS-terminating proxy. The defaults suit plain-HTTP local use; production
# sets them all (see docs/operations.md); `check --deploy` is then silent.
# "HTTP_X_FORWARDED_PROTO,https": trust only a proxy that always overwrites that header.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Probes reach the pods over plain HTTP. (/metrics is answered before the redirect.)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_prometheus",
    "core",
    "accounts",
    "housing",
    "billing",
    "receipts",
    "stores",
    "imports",
    "residents",
]

MIDDLEWARE = [
    "core.logs.RequestIdMiddleware",  # first: every later log line carries the request id
    "core.metrics.MetricsEndpointMiddleware",  # /metrics: before host checks and SSL redirect
    "core.bodylimit.BodyLimitMiddleware",
    "core.middleware.NulCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from Accept-Language (operators' browsers), else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.JsonErrorsMiddleware",
    "core.metrics.HttpMetricsMiddleware",  # requests by view, method, status; latency
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -------------------------------------------------------------------------------
# The ASGI process sets DB_CONN_MAX_AGE=0 (Django's advice for async servers); gunicorn and the
# Celery worker keep connections open. The engines are django-prometheus' thin subclasses of
# Django's own (same `connection.vendor`): they count queries, errors and connections.
PROMETHEUS_DB_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
EMBEDDED_DATABASE = not env.str("DATABASE_URL", default="")
if EMBEDDED_DATABASE:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES: dict[str, dict[str, Any]] = {
        "default": {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                "timeout": 20,  # busy timeout, seconds
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": env.db("DATABASE_URL")}
    _engine = DATABASES["default"]["ENGINE"]
    DATABASES["default"]["ENGINE"] = PROMETHEUS_DB_ENGINES.get(_engine, _engine)
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
# A persistent connection that served this thread's previous request cleanly less than this
# many seconds ago is not pinged again (core/db.py); 0: ping before every request.
DB_HEALTH_CHECK_GRACE_SECONDS = env.float("DB_HEALTH_CHECK_GRACE_SECONDS", default=5.0)

# --- Redis: Celery broker, channel layer, cache ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="app"),
            # The sign-in throttles live here: an unreachable Redis must fail fast (503).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
    # Redis pub/sub: a group message is published once and each ASGI process hands it to its
    # own subscribers (the list-based layer wrote, and each process popped, one copy per
    # socket: 1,000 subscribers cost 1,000 Redis round trips per change).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNELS_PREFIX", default="asgi"),
            },
        }
    }
else:
    # Demo only: kombu's filesystem transport can lose a message under load.
    for folder in ("broker", "broker-processed", "broker-control"):
        (VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Request limits: hostile bodies get a 4xx, never a 500 ---------------------------------
# Bodies over the limit answer 413 before they are read (core.bodylimit); the bulk receipts
# endpoint takes up to RECEIPTS_BULK_MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
RECEIPTS_BULK_MAX_BODY_BYTES = env.int("RECEIPTS_BULK_MAX_BODY_BYTES", default=32 * 1024 * 1024)
LARGE_BODY_PATHS = {"/api/checks/bulk": RECEIPTS_BULK_MAX_BODY_BYTES}
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)  # deeper JSON bodies answer 400

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token and SimpleJWT's, with the user lookup cached briefly (core/auth.py).
        "core.auth.CachedTokenAuthentication",
        "core.auth.CachedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["core.filters.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "signin_ip": env.str("THROTTLE_SIGNIN_IP", default="60/min"),
        "signin_account": env.str("THROTTLE_SIGNIN_ACCOUNT", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # How many reverse proxies stand in front of the web servers. 0: the per-IP throttles
    # count REMOTE_ADDR and ignore X-Forwarded-For; n: the n-th address from the right of
    # X-Forwarded-For. Set it together with the web servers' FORWARDED_ALLOW_IPS.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)

# How long a Token/JWT request may reuse the user looked up by an earlier one; every change of
# the user or token drops the entry at once (core/auth.py). 0: look the user up every time.
AUTH_USER_CACHE_SECONDS = env.int("AUTH_USER_CACHE_SECONDS", default=30)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Sign-in codes (phone SMS and e-mail). Numbers are defaults (docs/api/identity.md).
SIGNIN_CODE_TTL_SECONDS = env.int("SIGNIN_CODE_TTL_SECONDS", default=300)
SIGNIN_CODE_MAX_ATTEMPTS = env.int("SIGNIN_CODE_MAX_ATTEMPTS", default=5)
SIGNIN_CODE_RESEND_SECONDS = env.int("SIGNIN_CODE_RESEND_SECONDS", default=60)
# Per phone number / e-mail address, in any 24 hours, across codes.
SIGNIN_WRONG_CODES_PER_DAY = env.int("SIGNIN_WRONG_CODES_PER_DAY", default=10)
SIGNIN_CODES_PER_DAY = env.int("SIGNIN_CODES_PER_DAY", default=10)
SMS_BACKEND = env.str("SMS_BACKEND", default="console")  # console | file | http
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_API_KEY = env.str("SMS_HTTP_API_KEY", default="")
SMS_SEND_DELAY_SECONDS = env.float("SMS_SEND_DELAY_SECONDS", default=1.5)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")

# --- Money ----------------------------------------------------------------------------------
BALANCE_MAX_AMOUNT = Decimal(env.str("BALANCE_MAX_AMOUNT", default="1000000000.00"))
BALANCE_LOCK_TIMEOUT_MS = env.int("BALANCE_LOCK_TIMEOUT_MS", default=3000)
EXCHANGE_RATES_URL = env.str(
    "EXCHANGE_RATES_URL", default="https://www.cbr.ru/scripts/XML_daily.asp"
)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)

# --- Rent calculation (billing) ----------------------------------------------------------
RENT_BATCH_SIZE = env.int("RENT_BATCH_SIZE", default=2000)  # flats per committed batch
RENT_BATCH_PAUSE_SECONDS = env.float("RENT_BATCH_PAUSE_SECONDS", default=0.0)  # spare the DB
RENT_STALLED_AFTER_SECONDS = env.int("RENT_STALLED_AFTER_SECONDS", default=120)
RENT_MAX_ATTEMPTS = env.int("RENT_MAX_ATTEMPTS", default=5)

# --- Bulk imports and exports (imports) ------------------------------------------------------
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=50)  # larger: a 413
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=10000)  # rows per committed batch
IMPORT_BATCH_PAUSE_SECONDS = env.float("IMPORT_BATCH_PAUSE_SECONDS", default=0.0)
IMPORT_STALLED_AFTER_SECONDS = env.int("IMPORT_STALLED_AFTER_SECONDS", default=120)
IMPORT_MAX_ATTEMPTS = env.int("IMPORT_MAX_ATTEMPTS", default=5)
# An import upload may be that large (plus room for the multipart envelope): the body limit
# lets it through, and the view answers a file over IMPORT_MAX_UPLOAD_MB with its own 413.
LARGE_BODY_PATHS.update(
    dict.fromkeys(
        ("/api/v1/imports", "/admin/imports/importjob/upload"),
        (IMPORT_MAX_UPLOAD_MB + 1) * 1024 * 1024,
    )
)

# --- Residents -----------------------------------------------------------------------------------
# Residents: the reading window (days of the month, inclusive), the reminder before it closes,
# flat codes, where rent is paid to, when it is due, and notices per committed batch.
READINGS_WINDOW_DAYS = env.str("READINGS_WINDOW_DAYS", default="15-25")
READINGS_REMINDER_DAYS_BEFORE = env.int("READINGS_REMINDER_DAYS_BEFORE", default=2)
FLAT_CODE_TTL_HOURS = env.int("FLAT_CODE_TTL_HOURS", default=72)
RENT_COLLECTION_ACCOUNT_ID = env.int("RENT_COLLECTION_ACCOUNT_ID", default=None)
RENT_DUE_DAY = env.int("RENT_DUE_DAY", default=10)  # of the month after the charged one
NOTIFY_BATCH_SIZE = env.int("NOTIFY_BATCH_SIZE", default=1000)

# --- Receipts -------------------------------------------------------------------------------
RECEIPTS_TRANSPORT = env.str("RECEIPTS_TRANSPORT", default="celery")  # celery | kafka
RECEIPTS_JOURNAL_PATH = env.str(
    "RECEIPTS_JOURNAL_PATH", default=str(VAR_DIR / "journal" / "receipts.jsonl")
)
# Receipts timestamped further ahead than this are refused (400): clocks drift, 2030 is a lie.
RECEIPTS_MAX_FUTURE_SECONDS = env.int("RECEIPTS_MAX_FUTURE_SECONDS", default=300)
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
KAFKA_RECEIPTS_TOPIC = env.str("KAFKA_RECEIPTS_TOPIC", default="receipts")
KAFKA_CONSUMER_GROUP = env.str("KAFKA_CONSUMER_GROUP", default="receipts-consumer")

# --- Stores ---------------------------------------------------------------------------------
STORE_IDS = env.str("STORE_IDS", default="").split()
REPORT_TIME = env.str("REPORT_TIME", default="21:00").strip("'\"")
SPECIAL_USER = env.str("SPECIAL_USER", default="")
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org/bot")
# Longest wait of a stock write's answer for the live push to subscribers (a stuck channel layer).
STOCK_PUSH_WAIT_MS = env.int("STOCK_PUSH_WAIT_MS", default=100)

# --- i18n, static ---------------------------------------------------------------------------
# English unless the client asks for Russian (Accept-Language): API clients that send no
# Accept-Language keep English error texts; operators' browsers in Russian get Russian.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-us")
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # admin and docs assets work even before collectstatic

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Housing & commerce API",
    "DESCRIPTION": "The housing registry and monthly rent, sign-in and money accounts, cash "
    "receipts and their analytics, warehouse stock.\n\n"
    "**Signing in.** Get a token from one of the Sign-in operations, press *Authorize* and "
    "enter it: a DRF token as `Token <key>`, a JWT access token alone (Bearer).\n\n"
    "**Errors** are JSON: `{detail, code, <field>: [...]}` (a message, a machine-readable code "
    "and each invalid field's messages). Money is in roubles, as decimal strings with 2 places "
    "unless an operation says otherwise.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.finish_schema",
    ],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True},
}
# Import jobs' `kind` and `status` share their names with other apps' choice sets.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "ImportKindEnum": "imports.models.ImportJob.Kind",
        "ImportStatusEnum": "imports.models.ImportJob.Status",
    }
)

# --- Logs and metrics -------------------------------------------------------------------------
# plain: one readable line; json: one JSON object per line. Both carry the request id, which
# follows a request into the Celery tasks it enqueues (core.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is plain or json")
LOGGING_CONFIG = "core.logs.configure_logging"  # dictConfig, and warnings as log records
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "core.logs.LogContextFilter"},
        "redact_secrets": {"()": "core.logs.RedactSecretsFilter"},  # no token=... of a URL
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s %(request_id)s "
            "%(task_name)s %(task_id)s %(process)d",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset -> /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and (
    len(METRICS_TOKEN) < 16 or METRICS_TOKEN.lower().startswith(SECRET_KEY_PLACEHOLDER_PREFIXES)
):
    raise ImproperlyConfigured("METRICS_TOKEN is a placeholder or shorter than 16 characters")
# The Redis hash where Celery workers add up their finished tasks for /metrics.
METRICS_CELERY_KEY = f"{env.str('CACHE_KEY_PREFIX', default='app')}:metrics:celery"
# Several processes (gunicorn workers): each writes its series to files in
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself) and a scrape sums them.

# --- Periodic jobs (Celery beat): the one place where they are scheduled ---------------------
CELERY_TIMEZONE = TIME_ZONE
_report_hour, _, _report_minute = REPORT_TIME.partition(":")
CELERY_BEAT_SCHEDULE = {
    "receipts-hourly-rollup": {
        "task": "receipts.rollup_recent_hours",
        "schedule": crontab(minute=1),
    },
    "stores-daily-telegram-report": {
        "task": "stores.send_stock_report",
        "schedule": crontab(hour=int(_report_hour), minute=int(_report_minute or 0)),
    },
    "balances-refresh-exchange-rates": {
        "task": "accounts.refresh_exchange_rates",
        "schedule": crontab(hour="*/6", minute=7),
    },
    "balances-verify-ledger": {
        "task": "accounts.verify_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    "billing-resume-stalled-runs": {
        "task": "billing.resume_stalled_runs",
        "schedule": crontab(minute="*/5"),
    },
    "imports-resume-stalled-imports": {
        "task": "imports.resume_stalled_imports",
        "schedule": crontab(minute="*/5"),
    },
    "accounts-purge-signin-codes": {
        "task": "accounts.purge_signin_codes",
        "schedule": crontab(hour=4, minute=41),
    },
    "residents-remind-readings": {
        "task": "residents.remind_readings",
        "schedule": crontab(hour=10, minute=3),
    },
    "residents-send-pending-notices": {
        "task": "residents.send_pending_notices",
        "schedule": crontab(minute="*/10"),
    },
    "core-purge-idempotency-keys": {
        "task": "core.purge_idempotency_keys",
        "schedule": crontab(hour=4, minute=23),
    },
}
