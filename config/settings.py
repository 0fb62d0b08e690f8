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

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-dev-only-secret-key-change-me")
else:
    SECRET_KEY = env.str("SECRET_KEY")  # required when DEBUG is off
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "core",
    "accounts",
    "housing",
    "billing",
    "receipts",
    "stores",
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
    "core.middleware.JsonErrorsMiddleware",
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
# Celery worker keep connections open.
EMBEDDED_DATABASE = not env.str("DATABASE_URL", default="")
if EMBEDDED_DATABASE:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
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
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5

# --- Redis: Celery broker, channel layer, cache ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="app"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
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

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["core.filters.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "signin_ip": env.str("THROTTLE_SIGNIN_IP", default="60/min"),
        "signin_account": env.str("THROTTLE_SIGNIN_ACCOUNT", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Sign-in codes (phone SMS and e-mail). Numbers are defaults; see DESIGN.md.
SIGNIN_CODE_TTL_SECONDS = env.int("SIGNIN_CODE_TTL_SECONDS", default=300)
SIGNIN_CODE_MAX_ATTEMPTS = env.int("SIGNIN_CODE_MAX_ATTEMPTS", default=5)
SIGNIN_CODE_RESEND_SECONDS = env.int("SIGNIN_CODE_RESEND_SECONDS", default=60)
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

# --- Receipts -------------------------------------------------------------------------------
RECEIPTS_TRANSPORT = env.str("RECEIPTS_TRANSPORT", default="celery")  # celery | kafka
RECEIPTS_JOURNAL_PATH = env.str(
    "RECEIPTS_JOURNAL_PATH", default=str(VAR_DIR / "journal" / "receipts.jsonl")
)
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
KAFKA_RECEIPTS_TOPIC = env.str("KAFKA_RECEIPTS_TOPIC", default="receipts")
KAFKA_CONSUMER_GROUP = env.str("KAFKA_CONSUMER_GROUP", default="receipts-consumer")

# --- Stores ---------------------------------------------------------------------------------
STORE_IDS = env.str("STORE_IDS", default="").split()
REPORT_TIME = env.str("REPORT_TIME", default="21:00").strip("'\"")
SPECIAL_USER = env.str("SPECIAL_USER", default="")
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org/bot")

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
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

SPECTACULAR_SETTINGS = {
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

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
    "accounts-purge-signin-codes": {
        "task": "accounts.purge_signin_codes",
        "schedule": crontab(hour=4, minute=41),
    },
    "core-purge-idempotency-keys": {
        "task": "core.purge_idempotency_keys",
        "schedule": crontab(hour=4, minute=23),
    },
}
