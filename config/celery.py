"""The Celery app and the one place where periodic (beat) jobs are scheduled."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # progress lives in database rows, not in a result backend
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=15 * 60,
    task_time_limit=20 * 60,
    broker_connection_retry_on_startup=True,
    task_routes={"receipts.*": {"queue": "receipts"}},
    timezone=os.environ.get("TIME_ZONE", "Europe/Moscow"),
)
app.autodiscover_tasks()
# accounts keeps identity and balances in subpackages, each with its own tasks module.
app.autodiscover_tasks(["accounts.identity", "accounts.balances"])


def _report_time() -> tuple[int, int]:
    hour, _, minute = os.environ.get("REPORT_TIME", "21:00").strip("'\"").partition(":")
    return int(hour), int(minute or 0)


_report_hour, _report_minute = _report_time()

app.conf.beat_schedule = {
    "receipts-hourly-rollup": {
        "task": "receipts.rollup_recent_hours",
        "schedule": crontab(minute=1),
    },
    "stores-daily-telegram-report": {
        "task": "stores.send_stock_report",
        "schedule": crontab(hour=_report_hour, minute=_report_minute),
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
