"""Celery transport: a batch of events per task message on the `receipts` queue."""

# A task message stays well under Redis' comfortable size even for a full bulk request.
EVENTS_PER_TASK = 500


def publish(events: list[dict]) -> None:
    from receipts.tasks import process_receipt_events

    for start in range(0, len(events), EVENTS_PER_TASK):
        process_receipt_events.delay(events[start : start + EVENTS_PER_TASK])
