"""The Celery app. Its settings, the beat schedule included, are CELERY_* in config/settings.py."""

import os

from celery import Celery, signals

from core import logs, metrics

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
app.autodiscover_tasks()  # each app's tasks module (accounts/tasks.py imports its parts)

# Request ids follow a request into its tasks; task counts and durations go to /metrics; worker
# and beat log through the project's LOGGING (plain or JSON) instead of Celery's own set-up.
signals.before_task_publish.connect(logs.add_request_id_header, weak=False)
signals.task_prerun.connect(logs.restore_request_id, weak=False)
signals.task_prerun.connect(metrics.task_started, weak=False)
signals.task_postrun.connect(metrics.task_finished, weak=False)
signals.task_postrun.connect(logs.forget_request_id, weak=False)
signals.setup_logging.connect(logs.configure_worker_logging, weak=False)
