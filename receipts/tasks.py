"""Celery tasks of the receipts app (all routed to the `receipts` queue by name)."""

from celery import shared_task

from receipts.services import rollups, sweeper

# The Celery transport's consumer, defined beside its transport; imported here so that the
# worker's autodiscovery of `<app>.tasks` registers it.
from receipts.transports.celery_transport import process_receipt_events

__all__ = ["process_receipt_events", "rollup_recent_hours"]


@shared_task(name="receipts.rollup_recent_hours")
def rollup_recent_hours() -> dict:
    """Hourly (beat): recompute the last few hours' rollups, then resend stranded receipts."""
    result = rollups.rollup_recent_hours()
    republished = sweeper.republish_stranded()
    return {
        "republished": republished,
        "since": result.since.isoformat(),
        "place_hours": result.place_hours,
        "category_hours": result.category_hours,
    }
