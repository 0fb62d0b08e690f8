"""Reads of stock: the report shape the API, websockets, xlsx and Telegram share."""

import re

from django.db.models import QuerySet

from stores import sql
from stores.models import STORE_ID_PATTERN, StockItem, StockMovement, Store


def is_valid_store_id(store_id: str) -> bool:
    return bool(re.fullmatch(STORE_ID_PATTERN, store_id))


def find_store(*, store_id: str) -> Store | None:
    return sql.store_by_id(store_id)


def stock_lines(*, store: Store) -> list[dict]:
    """Items in stock (quantity > 0) sorted by item_id, as `[{"item_id", "quantity"}]`."""
    rows = sql.in_stock(store_pk=store.pk)
    # Sorted here rather than in SQL so that the order is code-point order on every database
    # collation, the same order the lock-taking services use.
    return [{"item_id": item_id, "quantity": qty} for item_id, qty in sorted(rows)]


def store_report(*, store: Store) -> dict:
    """`{"store": {"store_id", "report": [...]}}`, the response shape the stores API specifies."""
    return {"store": {"store_id": store.store_id, "report": stock_lines(store=store)}}


def all_store_reports() -> list[dict]:
    """The report of every store, stores sorted by id, in two queries."""
    stores = list(Store.objects.order_by("store_id"))
    by_store: dict[int, list[tuple[str, int]]] = {store.pk: [] for store in stores}
    rows = StockItem.objects.filter(quantity__gt=0).values_list("store_id", "item_id", "quantity")
    for store_pk, item_id, quantity in rows:
        by_store[store_pk].append((item_id, quantity))
    return [
        {
            "store": {
                "store_id": store.store_id,
                "report": [
                    {"item_id": item_id, "quantity": quantity}
                    for item_id, quantity in sorted(by_store[store.pk])
                ],
            }
        }
        for store in stores
    ]


def movements(*, store: Store, item_id: str | None = None) -> QuerySet[StockMovement]:
    """The stock movements of a store (optionally of one item), newest first."""
    queryset = StockMovement.objects.filter(item__store=store).select_related("item", "user")
    if item_id is not None:
        queryset = queryset.filter(item__item_id=item_id)
    return queryset.order_by("-created_at", "-id")


def list_stores() -> QuerySet[Store]:
    return Store.objects.order_by("store_id")
