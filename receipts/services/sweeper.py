"""The producer side's safety net: publish again the receipts whose events were lost.

Ingestion publishes after commit; when the broker is down then, the receipt is stored but
never counted. The hourly job (receipts.tasks.rollup_recent_hours) calls republish_stranded.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from receipts.models import Purchase, Receipt
from receipts.transports import publish

logger = logging.getLogger(__name__)

STRANDED_AFTER = timedelta(minutes=2)
STRANDED_BATCH = 1000  # receipts per published batch: bounded memory, however long the outage


def receipt_event(receipt: Receipt) -> dict:
    """The stream event of a stored receipt (the same canonical form ingestion publishes)."""
    return {
        "transaction_id": receipt.transaction_id,
        "timestamp": receipt.timestamp.astimezone(UTC).isoformat(),
        "items": receipt.items,
        "total_amount": str(receipt.total_amount),
        "nds_amount": str(receipt.nds_amount),
        "tips_amount": str(receipt.tips_amount),
        "payment_method": receipt.payment_method,
        "place_id": receipt.place_id,
        "place_name": receipt.place_name,
    }


def stranded_receipts(
    *, now: datetime | None = None, after_id: int = 0, limit: int = STRANDED_BATCH
):
    """Accepted receipts (of any age) the consumer has not counted a while after they came in.

    In id order from `after_id`, so a caller walks them batch by batch (keyset pagination):
    the ones just published are not counted yet and would otherwise come back.
    """
    now = now or timezone.now()
    return (
        Receipt.objects.filter(id__gt=after_id, received_at__lt=now - STRANDED_AFTER)
        .filter(~Exists(Purchase.objects.filter(transaction_id=OuterRef("transaction_id"))))
        .order_by("id")[:limit]
    )


def republish_stranded(*, now: datetime | None = None, batch_size: int = STRANDED_BATCH) -> int:
    """Publish again every receipt whose event was lost (e.g. the broker was down after commit).

    No age limit: after an outage of any length every uncounted receipt is sent, one bounded
    batch at a time. Counting is idempotent, so sending one that is merely slow does no harm.
    """

    now = now or timezone.now()
    sent, after_id = 0, 0
    while True:
        batch = list(stranded_receipts(now=now, after_id=after_id, limit=batch_size))
        if not batch:
            break
        publish([receipt_event(receipt) for receipt in batch])
        sent += len(batch)
        after_id = batch[-1].id
        if len(batch) < batch_size:
            break
    if sent:
        logger.warning("Republished %d stranded receipt(s)", sent)
    return sent
