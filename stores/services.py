"""Writes of stock. Every change is one transaction that also writes its movement rows.

Concurrency: a single supply is one upsert and a single demand one guarded update
(`quantity = quantity - n WHERE quantity >= n`); group operations and clean lock rows in
code-point order of `item_id`, the same order everywhere, so that parallel operations queue
instead of deadlocking. `CHECK (quantity >= 0)` backs this up in the database.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Collate
from django.utils import timezone

from core.exceptions import Conflict
from stores.broadcast import publish_report
from stores.models import StockItem, StockMovement, Store
from stores.selectors import store_report

logger = logging.getLogger(__name__)

SUPPLY = StockMovement.Operation.SUPPLY
DEMAND = StockMovement.Operation.DEMAND
CLEAN = StockMovement.Operation.CLEAN


@dataclass(frozen=True)
class Shortage:
    item_id: str
    requested: int
    available: int

    def as_dict(self) -> dict:
        return {"item_id": self.item_id, "requested": self.requested, "available": self.available}


class InsufficientStock(Conflict):
    """A demand for more than is in stock; `shortages` names every line that failed."""

    default_code = "insufficient_stock"

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        text = "; ".join(
            f"item '{s.item_id}': requested {s.requested}, available {s.available}"
            for s in shortages
        )
        super().__init__(f"Not enough stock: {text}.")


def _finish(*, store: Store) -> dict:
    """The report after a change, published to subscribers once the transaction commits."""
    report = store_report(store=store)
    transaction.on_commit(lambda: publish_report(report))
    return report


def _table() -> str:
    return connection.ops.quote_name(StockItem._meta.db_table)


def _item_order():
    # Code-point order, as Python's sorted() gives, whatever the database collation.
    return Collate("item_id", "C") if connection.vendor == "postgresql" else "item_id"


def _upsert(*, store: Store, lines: list[tuple[str, int]]) -> list[tuple[int, str, int]]:
    """Add quantities, creating missing items; rows are taken in the order of `lines`."""
    now = timezone.now()
    table = _table()
    values = ", ".join(["(%s, %s, %s, %s)"] * len(lines))
    params: list = []
    for item_id, quantity in lines:
        params += [store.pk, item_id, quantity, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (store_id, item_id, quantity, updated_at) VALUES {values} "
            f"ON CONFLICT (store_id, item_id) DO UPDATE "
            f"SET quantity = {table}.quantity + EXCLUDED.quantity, "
            f"updated_at = EXCLUDED.updated_at "
            f"RETURNING id, item_id, quantity",
            params,
        )
        rows = cursor.fetchall()
    return rows


def _take(*, store: Store, item_id: str, quantity: int) -> tuple[int, int] | None:
    """The guarded decrement: (item pk, quantity after), or None if there is not enough."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET quantity = quantity - %s, updated_at = %s "
            f"WHERE store_id = %s AND item_id = %s AND quantity >= %s RETURNING id, quantity",
            [quantity, timezone.now(), store.pk, item_id, quantity],
        )
        return cursor.fetchone()


def _available(*, store: Store, item_ids: Iterable[str]) -> dict[str, int]:
    return dict(
        StockItem.objects.filter(store=store, item_id__in=list(item_ids)).values_list(
            "item_id", "quantity"
        )
    )


def _log(*, operation: str, changes: list[tuple[int, int, int]], user, request_id: str) -> None:
    """Write one movement per (item pk, delta, quantity after)."""
    user = user if user is not None and user.is_authenticated else None
    StockMovement.objects.bulk_create(
        StockMovement(
            item_id=item_pk,
            operation=operation,
            delta=delta,
            quantity_after=after,
            user=user,
            request_id=request_id,
        )
        for item_pk, delta, after in changes
    )


def new_request_id() -> str:
    return uuid.uuid4().hex


def _merge(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Sum repeated item ids; sort by item_id (the one lock order of this module)."""
    totals: Counter[str] = Counter()
    for item_id, quantity in lines:
        totals[item_id] += quantity
    return sorted(totals.items())


@transaction.atomic
def apply_operation(
    *,
    store: Store,
    operation: str,
    item_id: str,
    quantity: int,
    user=None,
    request_id: str | None = None,
) -> dict:
    """Supply (creating the item if new) or demand `quantity` of one item; returns the report.

    A demand of more than is in stock raises InsufficientStock and changes nothing.
    """
    return apply_group_operation(
        store=store,
        operation=operation,
        lines=[(item_id, quantity)],
        user=user,
        request_id=request_id,
    )


@transaction.atomic
def apply_group_operation(
    *,
    store: Store,
    operation: str,
    lines: Iterable[tuple[str, int]],
    user=None,
    request_id: str | None = None,
) -> dict:
    """Supply or demand several items at once, all or nothing; returns the report.

    Repeated item ids are summed. If any demanded line is short, InsufficientStock lists every
    short line and nothing is applied. Subscribers get one message for the whole group.
    """
    merged = _merge(lines)
    if not merged:
        raise ValueError("a stock operation needs at least one line")
    request_id = request_id or new_request_id()
    if operation == SUPPLY:
        rows = _upsert(store=store, lines=merged)
        requested = dict(merged)
        changes = [(pk, requested[item_id], after) for pk, item_id, after in rows]
    elif operation == DEMAND:
        changes, short = [], []
        for item_id, quantity in merged:
            taken = _take(store=store, item_id=item_id, quantity=quantity)
            if taken is None:
                short.append((item_id, quantity))
            else:
                changes.append((taken[0], -quantity, taken[1]))
        if short:
            available = _available(store=store, item_ids=[item_id for item_id, _ in short])
            raise InsufficientStock(
                [Shortage(item_id, qty, available.get(item_id, 0)) for item_id, qty in short]
            )
    else:
        raise ValueError(f"unknown stock operation {operation!r}")
    _log(operation=operation, changes=changes, user=user, request_id=request_id)
    return _finish(store=store)


@transaction.atomic
def clean_store(*, store: Store, user=None, request_id: str | None = None) -> dict:
    """Set every item of the store to 0 (movements record what was removed); returns the report."""
    request_id = request_id or new_request_id()
    items = list(
        StockItem.objects.select_for_update()
        .filter(store=store, quantity__gt=0)
        .order_by(_item_order())
        .only("id", "quantity")
    )
    if items:
        StockItem.objects.filter(pk__in=[item.pk for item in items]).update(
            quantity=0, updated_at=timezone.now()
        )
        _log(
            operation=CLEAN,
            changes=[(item.pk, -item.quantity, 0) for item in items],
            user=user,
            request_id=request_id,
        )
    return _finish(store=store)


def create_store(*, store_id: str) -> Store:
    """Create a store; raises Conflict if that id is taken."""
    _validate_store_id(store_id)
    try:
        with transaction.atomic():
            return Store.objects.create(store_id=store_id)
    except IntegrityError:
        raise Conflict(f"Store '{store_id}' already exists.", code="store_exists") from None


def _validate_store_id(store_id: str) -> None:
    Store._meta.get_field("store_id").run_validators(store_id)


def ensure_configured_stores(*, store_ids: Iterable[str] | None = None) -> list[Store]:
    """Create the stores named in STORE_IDS (or `store_ids`) that do not exist yet."""
    wanted = []
    for store_id in dict.fromkeys(settings.STORE_IDS if store_ids is None else store_ids):
        try:
            _validate_store_id(store_id)
        except ValidationError:
            logger.warning("STORE_IDS: %r is not a valid store id, skipped", store_id)
        else:
            wanted.append(store_id)
    existing = set(Store.objects.filter(store_id__in=wanted).values_list("store_id", flat=True))
    Store.objects.bulk_create(
        [Store(store_id=store_id) for store_id in wanted if store_id not in existing],
        ignore_conflicts=True,
    )
    return list(Store.objects.filter(store_id__in=wanted))
