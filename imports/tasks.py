"""Celery entry points of imports; the work is in imports.runs."""

import logging
from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.db import transaction

from imports import runs

logger = logging.getLogger(__name__)


def enqueue_run(job_id: runs.JobId) -> None:
    """Send the job to a worker once the current transaction commits."""
    transaction.on_commit(lambda: _send(job_id))


def _send(job_id: runs.JobId) -> None:
    try:
        run_import.delay(str(job_id))
    except Exception:
        # The job is committed and active: imports.resume_stalled_imports sends it again.
        logger.exception("Could not enqueue import %s; the beat job will retry", job_id)


def resume_stalled(*, older_than: timedelta | None = None) -> list[UUID]:
    """Send again the active jobs whose progress stalled (see runs.claim_stalled_imports)."""
    with transaction.atomic():
        stalled = runs.claim_stalled_imports(older_than=older_than)
        for job_id in stalled:
            enqueue_run(job_id)
    if stalled:
        logger.info("Re-enqueued %d stalled imports", len(stalled))
    return stalled


@shared_task(name="imports.run_import")
def run_import(job_id: str) -> None:
    """Execute or continue an import (acks_late: a killed worker's message is redelivered)."""
    try:
        runs.execute_import(job_id=job_id)
    except Exception as exc:
        runs.note_error(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="imports.resume_stalled_imports")
def resume_stalled_imports() -> int:
    """Beat job: re-enqueue imports whose progress stalled, e.g. after a worker was killed."""
    return len(resume_stalled())
