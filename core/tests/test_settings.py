"""Settings load in both modes: embedded (nothing set) and PostgreSQL + Redis."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
from django.db import connection
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"],
    "vendor": connection.vendor,
    "db_name": str(s.DATABASES["default"]["NAME"]),
    "broker": s.CELERY_BROKER_URL,
    "cache": s.CACHES["default"]["BACKEND"],
    "channels": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "debug": s.DEBUG,
    "time_zone": s.TIME_ZONE,
    "use_tz": s.USE_TZ,
}))
"""

CONFIG_VARS = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TIME_ZONE", "CELERY_BROKER_URL")


def load_settings(tmp_path, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_mode_needs_no_server(tmp_path):
    loaded = load_settings(tmp_path, DEBUG="true")
    # django-prometheus' subclass of Django's engine: counts the queries for /metrics
    assert loaded["engine"] == "django_prometheus.db.backends.sqlite3"
    assert loaded["vendor"] == "sqlite"  # what the SQLite fallbacks of the services test
    assert loaded["db_name"] == str(tmp_path / "db.sqlite3")
    assert loaded["broker"] == "filesystem://"
    assert loaded["cache"].endswith("LocMemCache")
    assert loaded["channels"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["time_zone"] == "Europe/Moscow"
    assert loaded["use_tz"] is True
    assert (tmp_path / "broker").is_dir()


def test_server_mode_uses_postgresql_and_redis(tmp_path):
    loaded = load_settings(
        tmp_path,
        SECRET_KEY="server-mode-test-key-6b1f0e94c27a4d8e9f35a1c07b6d2e48f5",
        DATABASE_URL="postgres://u:p@db.example:5432/app",
        REDIS_URL="redis://cache.example:6379/2",
        TIME_ZONE="UTC",
    )
    assert loaded["engine"] == "django_prometheus.db.backends.postgresql"
    assert loaded["vendor"] == "postgresql"
    assert loaded["db_name"] == "app"
    assert loaded["broker"] == "redis://cache.example:6379/2"
    assert loaded["cache"].endswith("RedisCache")
    assert loaded["channels"] == "channels_redis.core.RedisChannelLayer"
    assert loaded["debug"] is False
    assert loaded["time_zone"] == "UTC"


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**clean, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
