"""The guarded SQL statements behind stock changes.

On PostgreSQL a supply (single or group) and a single demand are ONE statement each: the
guarded update or upsert and the movement insert in one data-modifying CTE. In autocommit mode
the row lock is then held only while that statement runs, which is what lets the HTTP path
get close to the bare-update rate on hot items. Other databases (the SQLite quick start) run
the same steps as separate statements inside a transaction.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.db import on_postgresql
from stores.models import StockItem, StockMovement, Store

Lines = Sequence[tuple[str, int]]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _items() -> str:
    return _q(StockItem._meta.db_table)


def _moves() -> str:
    return _q(StockMovement._meta.db_table)


def _single_statement() -> bool:
    return on_postgresql()


MOVE_COLUMNS = "(item_id, operation, delta, quantity_after, user_id, request_id, created_at)"


def supply(
    *, store_pk: int, lines: Lines, operation: str, user_id: int | None, request_id: str
) -> None:
    """Add each quantity, creating missing items, and log the movements; rows are locked in
    the order of `lines` (callers sort them)."""
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s, %s)"] * len(lines))
    params: list = []
    for item_id, quantity in lines:
        params += [store_pk, item_id, quantity, now]
    upsert = (
        f"INSERT INTO {_items()} (store_id, item_id, quantity, updated_at) VALUES {values} "
        f"ON CONFLICT (store_id, item_id) DO UPDATE "
        f"SET quantity = {_items()}.quantity + EXCLUDED.quantity, "
        f"updated_at = EXCLUDED.updated_at RETURNING id, item_id, quantity"
    )
    deltas = dict(lines)
    with connection.cursor() as cursor:
        if _single_statement():
            pairs = ", ".join(["(%s, %s)"] * len(lines))
            cursor.execute(
                f"WITH changed AS ({upsert}) "
                f"INSERT INTO {_moves()} {MOVE_COLUMNS} "
                f"SELECT changed.id, %s, wanted.delta, changed.quantity, %s, %s, %s "
                f"FROM changed JOIN (VALUES {pairs}) AS wanted(item_id, delta) "
                f"ON wanted.item_id = changed.item_id",
                [*params, operation, user_id, request_id, now]
                + [value for line in lines for value in line],
            )
            return
        with transaction.atomic():
            cursor.execute(upsert, params)
            rows = cursor.fetchall()
            log(
                operation=operation,
                changes=[(pk, deltas[item_id], after) for pk, item_id, after in rows],
                user_id=user_id,
                request_id=request_id,
            )


def take(
    *, store_pk: int, item_id: str, quantity: int, user_id: int | None, request_id: str
) -> bool:
    """The guarded decrement (`quantity >= n`) and its movement; False if there is not enough."""
    now = timezone.now()
    update = (
        f"UPDATE {_items()} SET quantity = quantity - %s, updated_at = %s "
        f"WHERE store_id = %s AND item_id = %s AND quantity >= %s RETURNING id, quantity"
    )
    params: list[int | str | datetime] = [quantity, now, store_pk, item_id, quantity]
    with connection.cursor() as cursor:
        if _single_statement():
            cursor.execute(
                f"WITH changed AS ({update}) "
                f"INSERT INTO {_moves()} {MOVE_COLUMNS} "
                f"SELECT changed.id, 'demand', %s, changed.quantity, %s, %s, %s FROM changed "
                f"RETURNING id",
                [*params, -quantity, user_id, request_id, now],
            )
            return cursor.fetchone() is not None
        with transaction.atomic():
            cursor.execute(update, params)
            row = cursor.fetchone()
            if row is not None:
                log(
                    operation="demand",
                    changes=[(row[0], -quantity, row[1])],
                    user_id=user_id,
                    request_id=request_id,
                )
            return row is not None


def store_by_id(store_id: str) -> Store | None:
    """The store of that store_id. Every stock request starts with it, so it skips the ORM's
    query compilation (which cost more CPU than the query)."""
    columns = [field.attname for field in Store._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_q(c) for c in columns)} FROM {_q(Store._meta.db_table)} "
            f"WHERE {_q('store_id')} = %s",
            [store_id],
        )
        row = cursor.fetchone()
    return None if row is None else Store.from_db(connection.alias, columns, row)


def take_all(*, store_pk: int, lines: Lines, user_id: int | None, request_id: str) -> list[str]:
    """Take every line (guarded, with its movement), all or nothing; the short item ids.

    On PostgreSQL one call of `stores_take_all` (migration stores 0003): the locks live for
    that one statement. Elsewhere the same steps in a transaction rolled back on a shortage.
    """
    if _single_statement():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT stores_take_all(%s, %s::text[], %s::bigint[], %s, %s, %s)",
                [
                    store_pk,
                    [item_id for item_id, _quantity in lines],
                    [quantity for _item_id, quantity in lines],
                    user_id,
                    request_id,
                    timezone.now(),
                ],
            )
            return cursor.fetchone()[0]
    with transaction.atomic():
        short = [
            item_id
            for item_id, quantity in lines
            if not take(
                store_pk=store_pk,
                item_id=item_id,
                quantity=quantity,
                user_id=user_id,
                request_id=request_id,
            )
        ]
        if short:
            transaction.set_rollback(True)
    return short


def in_stock(*, store_pk: int) -> list[tuple[str, int]]:
    """`(item_id, quantity)` of the store's items with quantity > 0, in no particular order.

    Read after every change (the answer and the websocket message), so it skips the ORM's
    per-call query compilation.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT item_id, quantity FROM {_items()} WHERE store_id = %s AND quantity > 0",
            [store_pk],
        )
        return cursor.fetchall()


def log(
    *, operation: str, changes: list[tuple[int, int, int]], user_id: int | None, request_id: str
) -> None:
    """Write one movement per (item pk, delta, quantity after)."""
    StockMovement.objects.bulk_create(
        StockMovement(
            item_id=item_pk,
            operation=operation,
            delta=delta,
            quantity_after=after,
            user_id=user_id,
            request_id=request_id,
        )
        for item_pk, delta, after in changes
    )
