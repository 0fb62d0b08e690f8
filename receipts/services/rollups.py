"""Hourly rollups recomputed from the counted purchases, and the sweeper for stranded receipts."""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from receipts import journal
from receipts.models import PlaceCategoryHour, PlaceHour, Purchase, PurchaseCategory, Receipt
from receipts.services import portable
from receipts.services.consumption import hour_of, lock_rollups

logger = logging.getLogger(__name__)

RECENT_HOURS = 3
STRANDED_AFTER = timedelta(minutes=2)
STRANDED_BATCH = 1000  # receipts per published batch: bounded memory, however long the outage


@dataclass
class RollupResult:
    since: datetime
    until: datetime
    place_hours: int
    category_hours: int
    seconds: float


def rebuild_rollups(*, since: datetime, until: datetime | None = None) -> RollupResult:
    """Recompute the hourly rollups for the hours starting in [since, until) from purchases.

    Rows of those hours are replaced in one transaction, so a rerun gives the same rows and a
    backfill of any range is harmless. `since` is floored to its hour; `until` defaults to the
    end of the current hour.
    """
    started = time.monotonic()
    since = hour_of(since)
    if until is None:
        until = hour_of(timezone.now()) + timedelta(hours=1)
    with transaction.atomic():
        lock_rollups(exclusive=True)
        if portable.on_postgres():
            place_hours, category_hours = _rebuild_in_sql(since=since, until=until)
        else:
            place_hours, category_hours = portable.rebuild(since=since, until=until)
    result = RollupResult(since, until, place_hours, category_hours, time.monotonic() - started)
    journal.write(
        [
            journal.journal_record(
                event="rollup",
                outcome="done",
                since=since.isoformat(),
                until=until.isoformat(),
                place_hours=place_hours,
                category_hours=category_hours,
                seconds=round(result.seconds, 3),
            )
        ]
    )
    return result


def _rebuild_in_sql(*, since: datetime, until: datetime) -> tuple[int, int]:
    # Two set-based statements per table: a million purchases roll up in about a second.
    hour_table, cat_table = PlaceHour._meta.db_table, PlaceCategoryHour._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {hour_table} WHERE hour >= %s AND hour < %s", [since, until])
        cursor.execute(
            f"INSERT INTO {hour_table} (place_id, hour, purchases, total_amount, total_nds, "
            "total_tips, updated_at) "
            "SELECT place_id, hour, count(*), sum(total_amount), sum(nds_amount), "
            f"sum(tips_amount), now() FROM {Purchase._meta.db_table} "
            "WHERE hour >= %s AND hour < %s GROUP BY place_id, hour",
            [since, until],
        )
        place_hours = cursor.rowcount
        cursor.execute(f"DELETE FROM {cat_table} WHERE hour >= %s AND hour < %s", [since, until])
        cursor.execute(
            f"INSERT INTO {cat_table} (place_id, category_id, hour, purchases, total_spent, "
            "updated_at) "
            "SELECT place_id, category_id, hour, count(*), sum(spent), now() "
            f"FROM {PurchaseCategory._meta.db_table} "
            "WHERE hour >= %s AND hour < %s GROUP BY place_id, category_id, hour",
            [since, until],
        )
        return place_hours, cursor.rowcount


def rollup_recent_hours(*, hours: int = RECENT_HOURS, now: datetime | None = None):
    """The hourly job: recompute the last `hours` hours and the current one."""
    now = now or timezone.now()
    current = hour_of(now)
    return rebuild_rollups(
        since=current - timedelta(hours=hours), until=current + timedelta(hours=1)
    )


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
    from receipts.transports import publish

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
