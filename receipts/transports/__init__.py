"""The stream between the producer side and the consumer side, chosen by RECEIPTS_TRANSPORT.

`celery` (default): one `receipts.process_receipt_events` task per published batch, on the
`receipts` queue. `kafka`: one message per receipt on KAFKA_RECEIPTS_TOPIC, read by
`manage.py consume_receipts`. Either way delivery is at-least-once and counting is idempotent.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from receipts.transports import celery_transport

TRANSPORTS = ("celery", "kafka")


def publish(events: list[dict]) -> None:
    """Send canonical receipt events to the consumer side."""
    if not events:
        return
    transport = settings.RECEIPTS_TRANSPORT
    if transport == "celery":
        send = celery_transport.publish
    elif transport == "kafka":
        # Loaded only when configured: the Kafka client is a heavy import.
        from receipts.transports.kafka_transport import publish as send
    else:
        raise ImproperlyConfigured(
            f"RECEIPTS_TRANSPORT must be one of {', '.join(TRANSPORTS)}, not {transport!r}"
        )
    send(events)
