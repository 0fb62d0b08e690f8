"""Celery entry points of billing; the work is in billing.runs."""

import logging
import uuid

from celery import shared_task
from django.db import transaction

from billing import runs

logger = logging.getLogger(__name__)


@shared_task(name="billing.calculate_rent")
def calculate_rent(run_id: str) -> None:
    """Execute or continue a rent run (acks_late: a killed worker's message is redelivered)."""
    try:
        runs.execute_run(run_id=run_id)
    except Exception as exc:
        runs.note_run_error(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="billing.resume_stalled_runs")
def resume_stalled_runs() -> int:
    """Beat job: re-enqueue runs whose progress stalled, e.g. after a worker was killed."""
    return len(runs.resume_stalled_runs(enqueue=enqueue_run))


def enqueue_run(run_id: uuid.UUID | str) -> None:
    """Send the run's calculate_rent task once the current transaction commits."""
    transaction.on_commit(lambda: _send(run_id))


def _send(run_id: uuid.UUID | str) -> None:
    try:
        calculate_rent.delay(str(run_id))
    except Exception:
        # The run is committed and PENDING: billing.resume_stalled_runs sends it again later.
        logger.exception("Could not enqueue rent run %s; the beat job will retry", run_id)
