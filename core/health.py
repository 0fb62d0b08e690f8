"""Readiness checks of the services the product depends on."""

from django.conf import settings

from core.db import ping


def check_database() -> str | None:
    try:
        ping()
    except Exception as exc:  # any driver error means "not ready"
        return f"database: {exc.__class__.__name__}: {exc}".strip()
    return None


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None  # embedded mode: no Redis to reach
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:
        return f"redis: {exc.__class__.__name__}: {exc}"
    return None


def check_broker() -> str | None:
    from config.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}: {exc}"
    return None


def readiness_failures() -> dict[str, str]:
    checks = {"database": check_database, "broker": check_broker, "redis": check_redis}
    return {name: error for name, check in checks.items() if (error := check())}
