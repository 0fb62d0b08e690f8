"""Writes of stock. Every change, with its movement rows, commits or fails as a whole.

Concurrency: a single supply is one upsert and a single demand one guarded update
(`quantity = quantity - n WHERE quantity >= n`), each a single statement with its movement
insert (see `stores.sql`); group operations and clean lock rows in code-point order of
`item_id`, the same order everywhere, so that parallel operations queue instead of
deadlocking. `CHECK (quantity >= 0)` backs this up in the database. Subscribers get the
report after the commit, one message per service call.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import by_vendor
from stores import sql
from stores.broadcast import publish_report
from stores.errors import InsufficientStock, StoreExists, StoreNotFound
from stores.models import StockItem, StockMovement, Store
from stores.selectors import find_store, store_report

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


def _report_after(*, store: Store, change) -> dict:
    """Run `change`, then publish the report once it is committed; returns the report.

    Outside a transaction (the usual HTTP case) the callback runs at once, so the report read
    after the commit serves both the answer and the subscribers. Inside an outer transaction
    (e.g. an Idempotency-Key request) subscribers get a report read after the real commit.
    """
    change()
    published: dict = {}

    def after_commit():
        published["report"] = store_report(store=store)
        publish_report(published["report"])

    transaction.on_commit(after_commit, robust=True)
    return published.get("report") or store_report(store=store)


def _item_order():
    # Code-point order, as Python's sorted() gives, whatever the database collation.
    return by_vendor(postgresql=Collate("item_id", "C"), sqlite="item_id")


def _available(*, store: Store, item_ids: Iterable[str]) -> dict[str, int]:
    return dict(
        StockItem.objects.filter(store=store, item_id__in=list(item_ids)).values_list(
            "item_id", "quantity"
        )
    )


def _user_id(user) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def _merge(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Sum repeated item ids; sort by item_id (the one lock order of this module)."""
    totals: Counter[str] = Counter()
    for item_id, quantity in lines:
        totals[item_id] += quantity
    return sorted(totals.items())


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
    if operation not in (SUPPLY, DEMAND):
        raise ValueError(f"unknown stock operation {operation!r}")
    user_id, request_id = _user_id(user), request_id or new_request_id()

    def take_all():
        # All or nothing; on PostgreSQL one statement (the rows are locked for it alone).
        short = set(
            sql.take_all(store_pk=store.pk, lines=merged, user_id=user_id, request_id=request_id)
        )
        if short:
            available = _available(store=store, item_ids=sorted(short))
            raise InsufficientStock(
                [
                    Shortage(item_id, qty, available.get(item_id, 0))
                    for item_id, qty in merged
                    if item_id in short
                ]
            )

    def change():
        if operation == SUPPLY:
            sql.supply(
                store_pk=store.pk,
                lines=merged,
                operation=SUPPLY,
                user_id=user_id,
                request_id=request_id,
            )
        elif len(merged) == 1:
            item_id, quantity = merged[0]
            # One guarded statement: nothing to roll back if it is short.
            if not sql.take(
                store_pk=store.pk,
                item_id=item_id,
                quantity=quantity,
                user_id=user_id,
                request_id=request_id,
            ):
                available = _available(store=store, item_ids=[item_id])
                raise InsufficientStock([Shortage(item_id, quantity, available.get(item_id, 0))])
        else:
            take_all()

    return _report_after(store=store, change=change)


def clean_store(*, store: Store, user=None, request_id: str | None = None) -> dict:
    """Set every item of the store to 0 (movements record what was removed); returns the report."""
    user_id, request_id = _user_id(user), request_id or new_request_id()

    def change():
        with transaction.atomic():
            items = list(
                StockItem.objects.select_for_update()
                .filter(store=store, quantity__gt=0)
                .order_by(_item_order())
                .only("id", "quantity")
            )
            if not items:
                return
            StockItem.objects.filter(pk__in=[item.pk for item in items]).update(
                quantity=0, updated_at=timezone.now()
            )
            sql.log(
                operation=CLEAN,
                changes=[(item.pk, -item.quantity, 0) for item in items],
                user_id=user_id,
                request_id=request_id,
            )

    return _report_after(store=store, change=change)


def resolve_store(*, store_id: str) -> Store:
    """The store of that id, for a request addressing it; raises StoreNotFound if unknown.

    A store named in STORE_IDS is created here if it does not exist yet (STORE_IDS set after
    the last `migrate`), so that every configured store answers from the first request.
    """
    store = find_store(store_id=store_id)
    if store is None and store_id in settings.STORE_IDS:
        store = next(iter(ensure_configured_stores(store_ids=[store_id])), None)
    if store is None:
        raise StoreNotFound(_("Store '%(store)s' does not exist.") % {"store": store_id})
    return store


def create_store(*, store_id: str) -> Store:
    """Create a store; raises StoreExists if that id is taken."""
    _validate_store_id(store_id)
    try:
        with transaction.atomic():
            return Store.objects.create(store_id=store_id)
    except IntegrityError:
        raise StoreExists(_("Store '%(store)s' already exists.") % {"store": store_id}) from None


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
