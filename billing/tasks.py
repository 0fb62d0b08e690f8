"""Celery entry points of billing; the work is in billing.services."""

from celery import shared_task

from billing import services


@shared_task(name="billing.calculate_rent")
def calculate_rent(run_id: str) -> None:
    """Execute or continue a rent run (acks_late: a killed worker's message is redelivered)."""
    try:
        services.execute_run(run_id=run_id)
    except Exception as exc:
        services.note_run_error(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="billing.resume_stalled_runs")
def resume_stalled_runs() -> int:
    """Beat job: re-enqueue runs whose progress stalled, e.g. after a worker was killed."""
    return len(services.resume_stalled_runs())
