"""Celery transport: a batch of events per task message on the `receipts` queue.

The consumer task lives here, beside the producer half; receipts/tasks.py imports it so that
Celery's autodiscovery registers it under its name (queued messages refer to that name).
"""

from celery import shared_task

from receipts.services import consumption

# A task message stays well under Redis' comfortable size even for a full bulk request.
EVENTS_PER_TASK = 500


def publish(events: list[dict]) -> None:
    for start in range(0, len(events), EVENTS_PER_TASK):
        process_receipt_events.delay(events[start : start + EVENTS_PER_TASK])


@shared_task(name="receipts.process_receipt_events")
def process_receipt_events(events: list[dict]) -> dict:
    """The consumer side of the Celery transport: count a batch of receipt events once."""
    result = consumption.consume_events(events=events)
    return {
        "counted": len(result.counted),
        "duplicates": len(result.duplicates),
        "refused": len(result.refused),
    }
