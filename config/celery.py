"""The Celery app. Its settings, the beat schedule included, are CELERY_* in config/settings.py."""

import os

from celery import Celery

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
)
app.autodiscover_tasks()
# accounts keeps identity and balances in subpackages, each with its own tasks module.
app.autodiscover_tasks(["accounts.identity", "accounts.balances"])
