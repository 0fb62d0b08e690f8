"""Celery entry points of residents; the work is in residents.notices."""

from celery import shared_task

from residents import notices


@shared_task(name="residents.notify_rent_run")
def notify_rent_run(run_id: str) -> int:
    """Queue a completed run's notices (idempotent, resumable), then send them."""
    notices.queue_rent_notices(run_id=run_id)
    return notices.send_pending()


@shared_task(name="residents.send_pending_notices")
def send_pending_notices() -> int:
    """Beat job: send notices left pending (a worker died, a gateway failed)."""
    return notices.send_pending()


@shared_task(name="residents.remind_readings")
def remind_readings() -> int:
    """Beat job: before the reading window closes, remind residents who have not submitted."""
    notices.queue_reminders()
    return notices.send_pending()
