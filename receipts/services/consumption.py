"""The consumer side: register places and categories, count each receipt once, keep rollups hot.

A batch of events is counted in one transaction: new `Purchase` rows are inserted with
`ON CONFLICT (transaction_id) DO NOTHING`, and only the rows that were really inserted are
added to the hourly rollups, so redelivery (Celery retries, Kafka replays after a crash before
the offset commit) never counts a receipt twice. Consumers hold a shared advisory lock; the
rollup rebuild holds it exclusively, so a rebuild never races an increment.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from receipts import journal
from receipts.models import (
    Category,
    Channel,
    DeadLetter,
    Place,
    PlaceCategoryHour,
    PlaceHour,
    Purchase,
    PurchaseCategory,
)
from receipts.services import portable
from receipts.validation import CleanReceipt, ReceiptInvalid, fingerprint, validate_receipt

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that serialises rollup rebuilds against increments.
ROLLUP_LOCK_KEY = 0x5EC1_7001


@dataclass
class ConsumeResult:
    counted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def hour_of(moment: datetime) -> datetime:
    """Start of the hour `moment` falls in, in the configured time zone."""
    local = moment.astimezone(timezone.get_current_timezone())
    return local.replace(minute=0, second=0, microsecond=0)


def lock_rollups(*, exclusive: bool) -> None:
    if not portable.on_postgres():
        return  # SQLite lets one writer in at a time anyway
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fn}(%s)", [ROLLUP_LOCK_KEY])


def _upsert_places(cleans: list[CleanReceipt]) -> dict[str, int]:
    """Register new places; rename a place only from a receipt newer than its current name.

    A late receipt carrying an old name therefore never renames the place back. Rows are
    sorted so that concurrent consumers lock them in the same order.
    """
    latest: dict[str, CleanReceipt] = {}
    for clean in cleans:
        seen = latest.get(clean.place_id)
        if seen is None or clean.timestamp > seen.timestamp:
            latest[clean.place_id] = clean
    table = Place._meta.db_table
    sql = (
        f"INSERT INTO {table} (code, name, named_at, first_seen_at) VALUES %s "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, named_at = EXCLUDED.named_at "
        f"WHERE {table}.named_at < EXCLUDED.named_at AND {table}.name <> EXCLUDED.name"
    )
    now = timezone.now()
    rows = [(code, c.place_name, c.timestamp) for code, c in sorted(latest.items())]
    if portable.on_postgres():
        with connection.cursor() as cursor:
            execute_values(cursor.cursor, sql, [(*row, now) for row in rows])
    else:
        portable.upsert_places(rows, now=now)
    return dict(Place.objects.filter(code__in=latest).values_list("code", "id"))


def _upsert_categories(names: set[str]) -> dict[str, int]:
    sql = f"INSERT INTO {Category._meta.db_table} (name) VALUES %s ON CONFLICT (name) DO NOTHING"
    if portable.on_postgres():
        with connection.cursor() as cursor:
            execute_values(cursor.cursor, sql, [(name,) for name in sorted(names)])
    else:
        portable.insert_categories(sorted(names))
    return dict(Category.objects.filter(name__in=names).values_list("name", "id"))


def _validate_events(events: list, channel: str) -> tuple[list[tuple[CleanReceipt, str]], list]:
    cleans: dict[str, tuple[CleanReceipt, str]] = {}
    refused: list[DeadLetter] = []
    for event in events:
        try:
            clean = validate_receipt(event)
        except ReceiptInvalid as exc:
            refused.append(
                DeadLetter(
                    channel=channel,
                    reason=DeadLetter.Reason.INVALID,
                    transaction_id=str(event.get("transaction_id", ""))[:255]
                    if isinstance(event, dict)
                    else "",
                    errors=exc.errors,
                    payload=event if isinstance(event, dict | list) else None,
                )
            )
            continue
        fp = fingerprint(clean.canonical())
        seen = cleans.get(clean.transaction_id)
        if seen is None:
            cleans[clean.transaction_id] = (clean, fp)
        elif seen[1] != fp:
            refused.append(_conflict_letter(event, clean.transaction_id, channel))
    return list(cleans.values()), refused


def _conflict_letter(event, transaction_id: str, channel: str) -> DeadLetter:
    return DeadLetter(
        channel=channel,
        reason=DeadLetter.Reason.CONFLICT,
        transaction_id=transaction_id,
        errors={
            "transaction_id": [
                f"transaction_id {transaction_id!r} was already counted with different content."
            ]
        },
        payload=event,
    )


def consume_events(*, events: list, channel: str = Channel.STREAM) -> ConsumeResult:
    """Count a batch of receipt events (canonical receipts) once each; safe to call again.

    Registers new places (renaming on a new `place_name`) and categories, records one
    `Purchase` per new `transaction_id` and adds it to the hourly rollups. An event that is not
    a valid receipt, or reuses a counted `transaction_id` with other content, goes to the
    dead-letter table instead.
    """
    result = ConsumeResult()
    cleans, refused = _validate_events(events, channel)
    by_id = {clean.transaction_id: (clean, fp) for clean, fp in cleans}
    with transaction.atomic():
        if cleans:
            lock_rollups(exclusive=False)
            # Redeliveries are the common case: leave them out before touching places.
            stored = _stored_fingerprints(list(by_id))
            new = [(clean, fp) for clean, fp in cleans if clean.transaction_id not in stored]
            inserted = _count(new) if new else {}
            # Rows a concurrent consumer inserted first are judged like earlier ones.
            stored.update(
                _stored_fingerprints(
                    [c.transaction_id for c, _ in new if c.transaction_id not in inserted]
                )
            )
            for tid, stored_fp in stored.items():
                clean, fp = by_id[tid]
                if stored_fp == fp:
                    result.duplicates.append(tid)
                else:
                    refused.append(_conflict_letter(clean.canonical(), tid, channel))
            result.counted = list(inserted)
        if refused:
            DeadLetter.objects.bulk_create(refused)
            result.refused = [letter.transaction_id for letter in refused]
    if refused:
        journal.write(
            [
                journal.journal_record(
                    event="stream",
                    outcome=letter.reason,
                    channel=channel,
                    transaction_id=letter.transaction_id,
                    errors=letter.errors,
                )
                for letter in refused
            ]
        )
    return result


def _count(new: list[tuple[CleanReceipt, str]]) -> dict[str, int]:
    """Register places and categories, insert purchases, add the inserted ones to the rollups.

    Returns {transaction_id: purchase id} of the purchases this call inserted.
    """
    places = _upsert_places([clean for clean, _ in new])
    categories = _upsert_categories({item.category for clean, _ in new for item in clean.items})
    inserted = _insert_purchases(new, places)
    clean_by_id = {clean.transaction_id: clean for clean, _ in new}
    fresh = [(clean_by_id[tid], pk) for tid, pk in inserted.items()]
    _insert_purchase_categories(fresh, places, categories)
    _add_to_rollups(fresh, places, categories)
    return inserted


def _stored_fingerprints(transaction_ids: list[str]) -> dict[str, str]:
    if not transaction_ids:
        return {}
    return dict(
        Purchase.objects.filter(transaction_id__in=transaction_ids).values_list(
            "transaction_id", "fingerprint"
        )
    )


def columns(rows: list[tuple]) -> list[list]:
    """Rows to one list per column, for `unnest` over array parameters."""
    return [list(column) for column in zip(*rows, strict=True)]


def _insert_purchases(cleans, places: dict[str, int]) -> dict[str, int]:
    # Arrays through unnest: one short statement for a whole batch (see ingestion).
    rows = [
        (
            clean.transaction_id,
            places[clean.place_id],
            clean.timestamp,
            hour_of(clean.timestamp),
            clean.total_amount,
            clean.nds_amount,
            clean.tips_amount,
            fp,
        )
        for clean, fp in sorted(cleans, key=lambda pair: pair[0].transaction_id)
    ]
    sql = (
        f"INSERT INTO {Purchase._meta.db_table} (transaction_id, place_id, timestamp, hour, "
        "total_amount, nds_amount, tips_amount, fingerprint, counted_at) "
        "SELECT p.*, %s FROM unnest(%s::varchar[], %s::bigint[], %s::timestamptz[], "
        "%s::timestamptz[], %s::numeric[], %s::numeric[], %s::numeric[], %s::varchar[]) AS p "
        "ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id, id"
    )
    now = timezone.now()
    if not portable.on_postgres():
        return portable.insert_purchases(rows, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *columns(rows)])
        return dict(cursor.fetchall())


def _insert_purchase_categories(fresh, places, categories) -> None:
    rows = [
        (pk, categories[name], places[clean.place_id], hour_of(clean.timestamp), spent)
        for clean, pk in fresh
        for name, spent in clean.category_spend().items()
    ]
    if not rows:
        return
    sql = (
        f"INSERT INTO {PurchaseCategory._meta.db_table} "
        "(purchase_id, category_id, place_id, hour, spent) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], "
        "%s::numeric[])"
    )
    if not portable.on_postgres():
        portable.insert_purchase_categories(rows)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, columns(rows))


def _add_to_rollups(fresh, places, categories) -> None:
    if not fresh:
        return
    zero = Decimal("0.00")
    per_hour: dict[tuple, list] = defaultdict(lambda: [0, zero, zero, zero])
    per_category: dict[tuple, list] = defaultdict(lambda: [0, zero])
    for clean, _ in fresh:
        place, hour = places[clean.place_id], hour_of(clean.timestamp)
        bucket = per_hour[(place, hour)]
        bucket[0] += 1
        bucket[1] += clean.total_amount
        bucket[2] += clean.nds_amount
        bucket[3] += clean.tips_amount
        for name, spent in clean.category_spend().items():
            cat_bucket = per_category[(place, categories[name], hour)]
            cat_bucket[0] += 1
            cat_bucket[1] += spent
    if not portable.on_postgres():
        portable.add_to_rollups(per_hour, per_category)
        return
    now = timezone.now()
    hour_table, cat_table = PlaceHour._meta.db_table, PlaceCategoryHour._meta.db_table
    with connection.cursor() as cursor:
        # Sorted keys: concurrent consumers take the row locks in the same order (no deadlock).
        execute_values(
            cursor.cursor,
            f"INSERT INTO {hour_table} (place_id, hour, purchases, total_amount, total_nds, "
            "total_tips, updated_at) VALUES %s ON CONFLICT (place_id, hour) DO UPDATE SET "
            f"purchases = {hour_table}.purchases + EXCLUDED.purchases, "
            f"total_amount = {hour_table}.total_amount + EXCLUDED.total_amount, "
            f"total_nds = {hour_table}.total_nds + EXCLUDED.total_nds, "
            f"total_tips = {hour_table}.total_tips + EXCLUDED.total_tips, "
            "updated_at = EXCLUDED.updated_at",
            [(*key, *values, now) for key, values in sorted(per_hour.items())],
            page_size=len(per_hour),
        )
        execute_values(
            cursor.cursor,
            f"INSERT INTO {cat_table} (place_id, category_id, hour, purchases, total_spent, "
            "updated_at) VALUES %s ON CONFLICT (place_id, category_id, hour) DO UPDATE SET "
            f"purchases = {cat_table}.purchases + EXCLUDED.purchases, "
            f"total_spent = {cat_table}.total_spent + EXCLUDED.total_spent, "
            "updated_at = EXCLUDED.updated_at",
            [(*key, *values, now) for key, values in sorted(per_category.items())],
            page_size=len(per_category),
        )
