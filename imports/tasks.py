"""Celery entry points of imports; the work is in imports.services."""

from celery import shared_task

from imports import services


@shared_task(name="imports.run_import")
def run_import(job_id: str) -> None:
    """Execute or continue an import (acks_late: a killed worker's message is redelivered)."""
    try:
        services.execute_import(job_id=job_id)
    except Exception as exc:
        services.note_error(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="imports.resume_stalled_imports")
def resume_stalled_imports() -> int:
    """Beat job: re-enqueue imports whose progress stalled, e.g. after a worker was killed."""
    return len(services.resume_stalled_imports())
