"""The same writes through the ORM, for databases other than PostgreSQL.

The quick start (`make run` without DATABASE_URL) runs on SQLite, which lacks `unnest`, array
parameters and advisory locks. SQLite lets one writer at a time in (the settings open write
transactions IMMEDIATE), so checking before inserting cannot race there; on PostgreSQL the
single-statement versions in the calling modules are used instead.
"""

import json
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Sum

from receipts.models import (
    Category,
    Place,
    PlaceCategoryHour,
    PlaceHour,
    Purchase,
    PurchaseCategory,
    Receipt,
)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def insert_receipts(rows: list[tuple], *, channel: str, caller_id, now: datetime) -> dict:
    """rows: (transaction_id, timestamp, place_id, place_name, payment_method, total_amount,
    nds_amount, tips_amount, items_json, fingerprint); returns {transaction_id: id} of new ones.
    """
    known = set(
        Receipt.objects.filter(transaction_id__in=[row[0] for row in rows]).values_list(
            "transaction_id", flat=True
        )
    )
    created = Receipt.objects.bulk_create(
        Receipt(
            transaction_id=tid,
            timestamp=timestamp,
            place_id=place_id,
            place_name=place_name,
            payment_method=payment_method,
            total_amount=total,
            nds_amount=nds,
            tips_amount=tips,
            items=json.loads(items),
            fingerprint=fingerprint,
            channel=channel,
            posted_by_id=caller_id,
            received_at=now,
        )
        for tid, timestamp, place_id, place_name, payment_method, total, nds, tips, items, fingerprint in rows  # noqa: E501
        if tid not in known
    )
    return {receipt.transaction_id: receipt.pk for receipt in created}


def upsert_places(rows: list[tuple], *, now: datetime) -> None:
    """rows: (code, name, named_at); rename only from a newer receipt with another name."""
    existing = {place.code: place for place in Place.objects.filter(code__in=[r[0] for r in rows])}
    Place.objects.bulk_create(
        Place(code=code, name=name, named_at=named_at, first_seen_at=now)
        for code, name, named_at in rows
        if code not in existing
    )
    for code, name, named_at in rows:
        place = existing.get(code)
        if place is not None and place.named_at < named_at and place.name != name:
            Place.objects.filter(pk=place.pk).update(name=name, named_at=named_at)


def insert_categories(names: list[str]) -> None:
    known = set(Category.objects.filter(name__in=names).values_list("name", flat=True))
    Category.objects.bulk_create(Category(name=name) for name in names if name not in known)


def insert_purchases(rows: list[tuple], *, now: datetime) -> dict[str, int]:
    """rows: (transaction_id, place_id, timestamp, hour, total, nds, tips, fingerprint)."""
    known = set(
        Purchase.objects.filter(transaction_id__in=[row[0] for row in rows]).values_list(
            "transaction_id", flat=True
        )
    )
    created = Purchase.objects.bulk_create(
        Purchase(
            transaction_id=tid,
            place_id=place_id,
            timestamp=timestamp,
            hour=hour,
            total_amount=total,
            nds_amount=nds,
            tips_amount=tips,
            fingerprint=fingerprint,
            counted_at=now,
        )
        for tid, place_id, timestamp, hour, total, nds, tips, fingerprint in rows
        if tid not in known
    )
    return {purchase.transaction_id: purchase.pk for purchase in created}


def insert_purchase_categories(rows: list[tuple]) -> None:
    """rows: (purchase_id, category_id, place_id, hour, spent)."""
    PurchaseCategory.objects.bulk_create(
        PurchaseCategory(
            purchase_id=purchase_id,
            category_id=category_id,
            place_id=place_id,
            hour=hour,
            spent=spent,
        )  # fmt: skip
        for purchase_id, category_id, place_id, hour, spent in rows
    )


def add_to_rollups(per_hour: dict, per_category: dict) -> None:
    for (place_id, hour), (purchases, total, nds, tips) in sorted(per_hour.items()):
        updated = PlaceHour.objects.filter(place_id=place_id, hour=hour).update(
            purchases=F("purchases") + purchases,
            total_amount=F("total_amount") + total,
            total_nds=F("total_nds") + nds,
            total_tips=F("total_tips") + tips,
        )
        if not updated:
            PlaceHour.objects.create(
                place_id=place_id, hour=hour, purchases=purchases, total_amount=total,
                total_nds=nds, total_tips=tips,
            )  # fmt: skip
    for (place_id, category_id, hour), (purchases, spent) in sorted(per_category.items()):
        updated = PlaceCategoryHour.objects.filter(
            place_id=place_id, category_id=category_id, hour=hour
        ).update(purchases=F("purchases") + purchases, total_spent=F("total_spent") + spent)
        if not updated:
            PlaceCategoryHour.objects.create(
                place_id=place_id, category_id=category_id, hour=hour, purchases=purchases,
                total_spent=spent,
            )  # fmt: skip


def rebuild(*, since: datetime, until: datetime) -> tuple[int, int]:
    """Replace the rollups of [since, until) with sums over the purchases."""
    hours = {"hour__gte": since, "hour__lt": until}
    PlaceHour.objects.filter(**hours).delete()
    PlaceCategoryHour.objects.filter(**hours).delete()
    place_hours = PlaceHour.objects.bulk_create(
        PlaceHour(
            place_id=row["place_id"],
            hour=row["hour"],
            purchases=row["n"],
            total_amount=row["total"],
            total_nds=row["nds"],
            total_tips=row["tips"],
        )  # fmt: skip
        for row in Purchase.objects.filter(**hours)
        .values("place_id", "hour")
        .annotate(
            n=Count("id"), total=Sum("total_amount"), nds=Sum("nds_amount"), tips=Sum("tips_amount")
        )
        .order_by()
    )
    category_hours = PlaceCategoryHour.objects.bulk_create(
        PlaceCategoryHour(
            place_id=row["place_id"],
            category_id=row["category_id"],
            hour=row["hour"],
            purchases=row["n"],
            total_spent=row["spent"],
        )  # fmt: skip
        for row in PurchaseCategory.objects.filter(**hours)
        .values("place_id", "category_id", "hour")
        .annotate(n=Count("id"), spent=Sum("spent"))
        .order_by()
    )
    return len(place_hours), len(category_hours)
