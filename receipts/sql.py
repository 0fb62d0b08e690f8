"""Receipts' raw SQL, each statement beside its SQLite twin (core.db picks one).

PostgreSQL gets set-based statements: arrays through `unnest` (one short statement for a whole
batch), `ON CONFLICT` to tell new rows from known ones, an advisory lock between the rollup
rebuild and the consumers. The twins do the same through the ORM for the embedded quick start:
SQLite lets one writer at a time in (the settings open write transactions IMMEDIATE), so
checking before inserting cannot race there, and it needs no advisory lock.
"""

import json
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Sum
from psycopg2.extras import execute_values

from core.db import by_vendor, on_postgresql
from receipts.models import (
    Category,
    Place,
    PlaceCategoryHour,
    PlaceHour,
    Purchase,
    PurchaseCategory,
    Receipt,
)

# Key of the PostgreSQL advisory lock that serialises rollup rebuilds against increments.
ROLLUP_LOCK_KEY = 0x5EC1_7001


def columns(rows: list[tuple]) -> list[list]:
    """Rows to one list per column, for `unnest` over array parameters."""
    return [list(column) for column in zip(*rows, strict=True)]


def lock_rollups(*, exclusive: bool) -> None:
    """Consumers share the lock, the rollup rebuild holds it alone (PostgreSQL; SQLite lets one
    writer in at a time anyway)."""
    if not on_postgresql():
        return
    fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fn}(%s)", [ROLLUP_LOCK_KEY])


def insert_receipts(rows: list[tuple], *, channel: str, caller_id, now: datetime) -> dict:
    """Insert new receipts, skipping known ids; {transaction_id: id} of the rows written.

    rows: (transaction_id, timestamp, place_id, place_name, payment_method, total_amount,
    nds_amount, tips_amount, items_json, fingerprint), sorted by transaction_id by the caller.
    """
    insert = by_vendor(postgresql=_insert_receipts, sqlite=_insert_receipts_sqlite)
    return insert(rows, channel=channel, caller_id=caller_id, now=now)


def _insert_receipts(rows: list[tuple], *, channel: str, caller_id, now: datetime) -> dict:
    # Raw SQL because the ORM cannot say which rows of a conflict-ignoring bulk insert were
    # new; one array per column keeps a 1,000-receipt request to one short statement (a VALUES
    # list would be built row by row in Python).
    sql = (
        f"INSERT INTO {Receipt._meta.db_table} (transaction_id, timestamp, place_id, place_name, "
        "payment_method, total_amount, nds_amount, tips_amount, items, fingerprint, channel, "
        "posted_by_id, received_at) "
        "SELECT r.*, %s, %s, %s FROM unnest(%s::varchar[], %s::timestamptz[], %s::varchar[], "
        "%s::varchar[], %s::varchar[], %s::numeric[], %s::numeric[], %s::numeric[], "
        "%s::jsonb[], %s::varchar[]) AS r "
        "ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [channel, caller_id, now, *columns(rows)])
        return dict(cursor.fetchall())


def upsert_places(rows: list[tuple], *, now: datetime) -> None:
    """rows: (code, name, named_at), sorted by code (concurrent consumers lock in one order);
    a place is renamed only from a newer receipt with another name."""
    upsert = by_vendor(postgresql=_upsert_places, sqlite=_upsert_places_sqlite)
    upsert(rows, now=now)


def _upsert_places(rows: list[tuple], *, now: datetime) -> None:
    table = Place._meta.db_table
    sql = (
        f"INSERT INTO {table} (code, name, named_at, first_seen_at) VALUES %s "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, named_at = EXCLUDED.named_at "
        f"WHERE {table}.named_at < EXCLUDED.named_at AND {table}.name <> EXCLUDED.name"
    )
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, [(*row, now) for row in rows])


def insert_categories(names: list[str]) -> None:
    insert = by_vendor(postgresql=_insert_categories, sqlite=_insert_categories_sqlite)
    insert(names)


def _insert_categories(names: list[str]) -> None:
    sql = f"INSERT INTO {Category._meta.db_table} (name) VALUES %s ON CONFLICT (name) DO NOTHING"
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, [(name,) for name in names])


def insert_purchases(rows: list[tuple], *, now: datetime) -> dict[str, int]:
    """rows: (transaction_id, place_id, timestamp, hour, total, nds, tips, fingerprint);
    {transaction_id: id} of the purchases inserted (a known transaction_id is skipped)."""
    insert = by_vendor(postgresql=_insert_purchases, sqlite=_insert_purchases_sqlite)
    return insert(rows, now=now)


def _insert_purchases(rows: list[tuple], *, now: datetime) -> dict[str, int]:
    sql = (
        f"INSERT INTO {Purchase._meta.db_table} (transaction_id, place_id, timestamp, hour, "
        "total_amount, nds_amount, tips_amount, fingerprint, counted_at) "
        "SELECT p.*, %s FROM unnest(%s::varchar[], %s::bigint[], %s::timestamptz[], "
        "%s::timestamptz[], %s::numeric[], %s::numeric[], %s::numeric[], %s::varchar[]) AS p "
        "ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *columns(rows)])
        return dict(cursor.fetchall())


def insert_purchase_categories(rows: list[tuple]) -> None:
    """rows: (purchase_id, category_id, place_id, hour, spent)."""
    insert = by_vendor(
        postgresql=_insert_purchase_categories, sqlite=_insert_purchase_categories_sqlite
    )
    insert(rows)


def _insert_purchase_categories(rows: list[tuple]) -> None:
    sql = (
        f"INSERT INTO {PurchaseCategory._meta.db_table} "
        "(purchase_id, category_id, place_id, hour, spent) "
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[], "
        "%s::numeric[])"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, columns(rows))


def add_to_rollups(per_hour: dict, per_category: dict, *, now: datetime) -> None:
    """Add counted purchases to the hourly rollups: per_hour {(place, hour): [purchases,
    total, nds, tips]}, per_category {(place, category, hour): [purchases, spent]}."""
    add = by_vendor(postgresql=_add_to_rollups, sqlite=_add_to_rollups_sqlite)
    add(per_hour, per_category, now=now)


def _add_to_rollups(per_hour: dict, per_category: dict, *, now: datetime) -> None:
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


def rebuild_rollups(*, since: datetime, until: datetime) -> tuple[int, int]:
    """Replace the rollups of [since, until) with sums over the purchases; the row counts
    (place hours, category hours) written."""
    rebuild = by_vendor(postgresql=_rebuild_rollups, sqlite=_rebuild_rollups_sqlite)
    return rebuild(since=since, until=until)


def _rebuild_rollups(*, since: datetime, until: datetime) -> tuple[int, int]:
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


# The SQLite twins.


def _insert_receipts_sqlite(rows: list[tuple], *, channel: str, caller_id, now: datetime) -> dict:
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


def _upsert_places_sqlite(rows: list[tuple], *, now: datetime) -> None:
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


def _insert_categories_sqlite(names: list[str]) -> None:
    known = set(Category.objects.filter(name__in=names).values_list("name", flat=True))
    Category.objects.bulk_create(Category(name=name) for name in names if name not in known)


def _insert_purchases_sqlite(rows: list[tuple], *, now: datetime) -> dict[str, int]:
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


def _insert_purchase_categories_sqlite(rows: list[tuple]) -> None:
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


def _add_to_rollups_sqlite(per_hour: dict, per_category: dict, *, now: datetime) -> None:
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


def _rebuild_rollups_sqlite(*, since: datetime, until: datetime) -> tuple[int, int]:
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
