import contextlib
import random
import threading
from collections import Counter

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Sum

from stores import services
from stores.models import StockItem, StockMovement, Store
from stores.tests.factories import StockItemFactory, StoreFactory


def quantities(store) -> dict[str, int]:
    return dict(StockItem.objects.filter(store=store).values_list("item_id", "quantity"))


def run_threads(workers, count_per_worker=1) -> list[BaseException]:
    """Start every worker at once (each with its own connection); return what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(workers))

    def body(work):
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung (deadlock?)"
    close_old_connections()
    return errors


@pytest.mark.django_db
class TestOperations:
    def test_demand_to_exactly_zero_keeps_row_at_zero(self):
        store = StoreFactory()
        services.apply_operation(store=store, operation="supply", item_id="a", quantity=3)
        report = services.apply_operation(store=store, operation="demand", item_id="a", quantity=3)
        assert report["store"]["report"] == []
        assert quantities(store) == {"a": 0}

    def test_refused_group_demand_writes_no_movement(self):
        store = StoreFactory()
        StockItemFactory(store=store, item_id="a", quantity=1)
        with pytest.raises(services.InsufficientStock) as refused:
            services.apply_group_operation(
                store=store, operation="demand", lines=[("a", 1), ("b", 1)]
            )
        assert [s.as_dict() for s in refused.value.shortages] == [
            {"item_id": "b", "requested": 1, "available": 0}
        ]
        assert quantities(store) == {"a": 1}
        assert not StockMovement.objects.exists()

    def test_database_refuses_negative_quantity(self):
        item = StockItemFactory(quantity=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            StockItem.objects.filter(pk=item.pk).update(quantity=-1)
        item.refresh_from_db()
        assert item.quantity == 1

    def test_report_published_only_after_commit(self, django_capture_on_commit_callbacks):
        store = StoreFactory()
        with django_capture_on_commit_callbacks() as callbacks:
            services.apply_operation(store=store, operation="supply", item_id="a", quantity=1)
            with pytest.raises(services.InsufficientStock):
                services.apply_operation(store=store, operation="demand", item_id="a", quantity=2)
        assert len(callbacks) == 1  # the refused demand registered nothing

    def test_clean_of_empty_store_writes_nothing(self):
        store = StoreFactory()
        assert services.clean_store(store=store)["store"]["report"] == []
        assert not StockMovement.objects.exists()

    def test_ensure_configured_stores_skips_invalid_ids(self):
        stores = services.ensure_configured_stores(store_ids=["abc111", "bad id", "abc111"])
        assert [s.store_id for s in stores] == ["abc111"]
        assert Store.objects.filter(store_id="abc111").count() == 1
        assert not Store.objects.filter(store_id="bad id").exists()


@pytest.mark.postgres_only  # parallel writers on row locks; SQLite admits one writer
@pytest.mark.django_db(transaction=True)
class TestParallelLoad:
    def test_50_supplies_and_30_demands_leave_exactly_20(self):
        store = Store.objects.create(store_id="hot")
        refused = Counter()
        lock = threading.Lock()

        def supply():
            services.apply_operation(store=store, operation="supply", item_id="x", quantity=1)

        def demand():
            # A demand that finds the item short is refused; it retries until served, so the
            # end state is exact whatever the interleaving.
            while True:
                try:
                    services.apply_operation(
                        store=store, operation="demand", item_id="x", quantity=1
                    )
                    return
                except services.InsufficientStock:
                    with lock:
                        refused["demand"] += 1

        workers = [supply] * 50 + [demand] * 30
        random.Random(4).shuffle(workers)
        errors = run_threads(workers)
        assert errors == []
        assert quantities(store) == {"x": 20}
        moves = StockMovement.objects.filter(item__store=store)
        assert moves.filter(operation="supply").count() == 50
        assert moves.filter(operation="demand").count() == 30
        assert moves.aggregate(total=Sum("delta"))["total"] == 20
        assert not moves.filter(quantity_after__lt=0).exists()
        print(f"refused demands (retried): {refused['demand']}")

    def test_parallel_demands_never_oversell(self):
        store = Store.objects.create(store_id="scarce")
        StockItem.objects.create(store=store, item_id="x", quantity=10)
        served = Counter()
        lock = threading.Lock()

        def demand():
            try:
                services.apply_operation(store=store, operation="demand", item_id="x", quantity=1)
            except services.InsufficientStock:
                outcome = "refused"
            else:
                outcome = "served"
            with lock:
                served[outcome] += 1

        assert run_threads([demand] * 25) == []
        assert served == Counter(served=10, refused=15)
        assert quantities(store) == {"x": 0}

    def test_crossing_group_operations_single_ops_and_clean_do_not_deadlock(self):
        store = Store.objects.create(store_id="cross")
        items = ["a", "b", "c", "d", "e"]
        services.apply_group_operation(
            store=store, operation="supply", lines=[(i, 50) for i in items]
        )

        def group(seed):
            def work():
                rng = random.Random(seed)
                for _ in range(6):
                    lines = [(i, rng.randint(1, 3)) for i in rng.sample(items, 3)]
                    lines.reverse()  # callers send lines in any order
                    op = rng.choice(["supply", "demand"])
                    with contextlib.suppress(services.InsufficientStock):
                        services.apply_group_operation(store=store, operation=op, lines=lines)

            return work

        def single(seed):
            def work():
                rng = random.Random(seed)
                for _ in range(6):
                    op = rng.choice(["supply", "demand"])
                    with contextlib.suppress(services.InsufficientStock):
                        services.apply_operation(
                            store=store, operation=op, item_id=rng.choice(items), quantity=2
                        )

            return work

        def clean():
            services.clean_store(store=store)

        workers = [group(n) for n in range(10)] + [single(100 + n) for n in range(8)] + [clean]
        errors = run_threads(workers)
        assert errors == []
        totals = dict(
            StockMovement.objects.filter(item__store=store)
            .values_list("item__item_id")
            .annotate(total=Sum("delta"))
        )
        assert quantities(store) == totals
        assert min(quantities(store).values()) >= 0
