"""On PostgreSQL a stock change is one statement, run outside any transaction opened from
Python: a hot item's row lock lives for that statement only."""

import pytest
from django.db import connection

from stores import services
from stores.models import StockMovement
from stores.tests.factories import StockItemFactory, StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def statements():
    """(sql, inside a transaction opened from Python?) of every statement sent."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def changes(statements) -> list[tuple[str, bool]]:
    return [
        (sql, atomic)
        for sql, atomic in statements
        if "stores_stockitem" in sql or "take_all" in sql
    ]


@pytest.mark.postgres_only  # the single-statement form is PostgreSQL's
@pytest.mark.parametrize(
    ("operation", "lines"),
    [
        ("supply", [("a", 1)]),
        ("demand", [("a", 1)]),
        ("supply", [("a", 1), ("b", 2)]),
        ("demand", [("a", 1), ("b", 2)]),
    ],
)
def test_a_change_is_one_statement_outside_any_transaction(statements, operation, lines):
    store = StoreFactory()
    StockItemFactory(store=store, item_id="a", quantity=5)
    StockItemFactory(store=store, item_id="b", quantity=5)
    statements.clear()
    services.apply_group_operation(store=store, operation=operation, lines=lines)
    writes = [sql for sql, _atomic in changes(statements) if "quantity > 0" not in sql]
    assert len(writes) == 1, writes
    assert not any(atomic for _sql, atomic in changes(statements))
    assert StockMovement.objects.filter(item__store=store).count() == len(lines)


def test_a_short_line_rolls_the_whole_group_back(statements):
    store = StoreFactory()
    StockItemFactory(store=store, item_id="a", quantity=5)
    StockItemFactory(store=store, item_id="b", quantity=1)
    with pytest.raises(services.InsufficientStock) as refused:
        services.apply_group_operation(
            store=store, operation="demand", lines=[("a", 2), ("b", 3), ("c", 1)]
        )
    assert [s.as_dict() for s in refused.value.shortages] == [
        {"item_id": "b", "requested": 3, "available": 1},
        {"item_id": "c", "requested": 1, "available": 0},
    ]
    assert dict(store.items.values_list("item_id", "quantity")) == {"a": 5, "b": 1}
    assert not StockMovement.objects.filter(item__store=store).exists()
