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
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from receipts import journal, sql
from receipts.hours import hour_of
from receipts.models import Category, Channel, DeadLetter, Place, Purchase
from receipts.validation import CleanReceipt, ReceiptInvalid, fingerprint, validate_receipt

logger = logging.getLogger(__name__)


@dataclass
class ConsumeResult:
    counted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


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
    rows = [(code, c.place_name, c.timestamp) for code, c in sorted(latest.items())]
    sql.upsert_places(rows, now=timezone.now())
    return dict(Place.objects.filter(code__in=latest).values_list("code", "id"))


def _upsert_categories(names: set[str]) -> dict[str, int]:
    sql.insert_categories(sorted(names))
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
            sql.lock_rollups(exclusive=False)
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


def _insert_purchases(cleans, places: dict[str, int]) -> dict[str, int]:
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
    return sql.insert_purchases(rows, now=timezone.now())


def _insert_purchase_categories(fresh, places, categories) -> None:
    rows = [
        (pk, categories[name], places[clean.place_id], hour_of(clean.timestamp), spent)
        for clean, pk in fresh
        for name, spent in clean.category_spend().items()
    ]
    if not rows:
        return
    sql.insert_purchase_categories(rows)


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
    sql.add_to_rollups(per_hour, per_category, now=timezone.now())
