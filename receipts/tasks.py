"""Celery tasks of the receipts app (all routed to the `receipts` queue by name)."""

from celery import shared_task

from receipts.services import consumption, rollups


@shared_task(name="receipts.process_receipt_events")
def process_receipt_events(events: list[dict]) -> dict:
    """The consumer side of the Celery transport: count a batch of receipt events once."""
    result = consumption.consume_events(events=events)
    return {
        "counted": len(result.counted),
        "duplicates": len(result.duplicates),
        "refused": len(result.refused),
    }


@shared_task(name="receipts.rollup_recent_hours")
def rollup_recent_hours() -> dict:
    """Hourly (beat): recompute the last few hours' rollups, then resend stranded receipts."""
    result = rollups.rollup_recent_hours()
    republished = rollups.republish_stranded()
    return {
        "republished": republished,
        "since": result.since.isoformat(),
        "place_hours": result.place_hours,
        "category_hours": result.category_hours,
    }
