import threading
from io import BytesIO

import pytest
from django.db import connection
from openpyxl import load_workbook
from rest_framework.test import APIClient

from stores.models import StockItem, StockMovement, Store
from stores.tests.factories import (
    OperatorFactory,
    StockItemFactory,
    StoreFactory,
    StorekeeperFactory,
)


def stock(store) -> dict[str, int]:
    return dict(StockItem.objects.filter(store=store).values_list("item_id", "quantity"))


@pytest.mark.django_db
class TestReport:
    def test_report_has_the_specified_shape_sorted_without_empty_items(self, reader_client, store):
        StockItemFactory(store=store, item_id="b", quantity=2)
        StockItemFactory(store=store, item_id="a", quantity=1)
        StockItemFactory(store=store, item_id="c", quantity=0)
        for path in ("/stores/abc111", "/stores/abc111/"):
            response = reader_client.get(path)
            assert response.status_code == 200
            assert response.json() == {
                "store": {
                    "store_id": "abc111",
                    "report": [{"item_id": "a", "quantity": 1}, {"item_id": "b", "quantity": 2}],
                }
            }

    def test_unknown_store_is_404(self, reader_client):
        response = reader_client.get("/stores/nope")
        assert response.status_code == 404
        assert response.json()["code"] == "store_not_found"

    def test_store_named_in_store_ids_exists_without_rows(self, reader_client, settings):
        settings.STORE_IDS = ["xyz000"]
        response = reader_client.get("/stores/xyz000")
        assert response.status_code == 200
        assert response.json() == {"store": {"store_id": "xyz000", "report": []}}
        assert Store.objects.filter(store_id="xyz000").exists()

    def test_anonymous_is_401(self, api_client, store):
        response = api_client.get("/stores/abc111")
        assert response.status_code == 401
        assert "WWW-Authenticate" in response

    def test_report_query_count_does_not_grow_with_items(
        self, reader_client, store, django_assert_max_num_queries
    ):
        for n in range(30):
            StockItemFactory(store=store, item_id=f"i{n:02}", quantity=n + 1)
        with django_assert_max_num_queries(3):  # token, store, items
            response = reader_client.get("/stores/abc111")
        assert len(response.json()["store"]["report"]) == 30


@pytest.mark.django_db
class TestSingleOperation:
    def test_supply_adds_to_existing_item(self, operator_client, store):
        StockItemFactory(store=store, item_id="apple", quantity=5)
        response = operator_client.post(
            "/stores/abc111", {"operation": "supply", "item_id": "apple", "quantity": 5}
        )
        assert response.status_code == 200
        assert response.json() == {
            "store": {"store_id": "abc111", "report": [{"item_id": "apple", "quantity": 10}]}
        }

    def test_single_operation_is_four_queries(
        self, operator_client, store, django_assert_num_queries
    ):
        StockItemFactory(store=store, item_id="apple", quantity=5)
        body = {"operation": "demand", "item_id": "apple", "quantity": 1}
        with django_assert_num_queries(4):  # token, store, guarded update + movement, report
            response = operator_client.post("/stores/abc111", body)
        assert response.json()["store"]["report"] == [{"item_id": "apple", "quantity": 4}]

    def test_demand_takes_from_item(self, operator_client, store):
        StockItemFactory(store=store, item_id="apple", quantity=5)
        response = operator_client.post(
            "/stores/abc111/", {"operation": "demand", "item_id": "apple", "quantity": 1}
        )
        assert response.status_code == 200
        assert response.json()["store"]["report"] == [{"item_id": "apple", "quantity": 4}]

    def test_supply_creates_new_item_and_logs_movement(self, operator_client, operator, store):
        response = operator_client.post(
            "/stores/abc111",
            {"operation": "supply", "item_id": "pear", "quantity": 3},
            HTTP_X_REQUEST_ID="req-1",
        )
        assert response.status_code == 200
        movement = StockMovement.objects.get()
        assert (movement.item.item_id, movement.operation, movement.delta) == ("pear", "supply", 3)
        assert (movement.quantity_after, movement.user, movement.request_id) == (
            3,
            operator,
            "req-1",
        )

    def test_without_request_id_the_movement_gets_the_requests_own(self, operator_client, store):
        response = operator_client.post(
            "/stores/abc111/", {"operation": "supply", "item_id": "pear", "quantity": 1}
        )
        assert response.status_code == 200
        assert StockMovement.objects.get().request_id == response["X-Request-ID"]

    def test_demand_down_to_zero_leaves_item_out_of_report(self, operator_client, store):
        StockItemFactory(store=store, item_id="apple", quantity=2)
        response = operator_client.post(
            "/stores/abc111", {"operation": "demand", "item_id": "apple", "quantity": 2}
        )
        assert response.json()["store"]["report"] == []
        assert stock(store) == {"apple": 0}

    def test_demand_above_stock_is_409_naming_item_and_changes_nothing(
        self, operator_client, store
    ):
        StockItemFactory(store=store, item_id="apple", quantity=2)
        response = operator_client.post(
            "/stores/abc111", {"operation": "demand", "item_id": "apple", "quantity": 3}
        )
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "insufficient_stock"
        assert "apple" in body["detail"]
        assert body["errors"] == [{"item_id": "apple", "requested": 3, "available": 2}]
        assert stock(store) == {"apple": 2}
        assert not StockMovement.objects.exists()

    def test_demand_of_unknown_item_is_409_and_creates_nothing(self, operator_client, store):
        response = operator_client.post(
            "/stores/abc111", {"operation": "demand", "item_id": "ghost", "quantity": 1}
        )
        assert response.status_code == 409
        assert response.json()["errors"] == [{"item_id": "ghost", "requested": 1, "available": 0}]
        assert stock(store) == {}

    @pytest.mark.parametrize(
        "body",
        [
            {"operation": "supply", "item_id": "a", "quantity": 0},
            {"operation": "supply", "item_id": "a", "quantity": -1},
            {"operation": "supply", "item_id": "a", "quantity": 1.5},
            {"operation": "supply", "item_id": "a", "quantity": "x"},
            {"operation": "supply", "item_id": "a"},
            {"operation": "steal", "item_id": "a", "quantity": 1},
            {"operation": "supply", "item_id": "", "quantity": 1},
            {"operation": "supply", "item_id": "a" * 101, "quantity": 1},
            {"item_id": "a", "quantity": 1},
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, operator_client, store, body):
        response = operator_client.post("/stores/abc111", body)
        assert response.status_code == 400
        assert response.json()["code"]
        assert stock(store) == {}

    def test_refused_demand_is_replayed_as_refused(self, operator_client, store):
        StockItemFactory(store=store, item_id="apple", quantity=1)
        body = {"operation": "demand", "item_id": "apple", "quantity": 2}
        first = operator_client.post("/stores/abc111", body, HTTP_IDEMPOTENCY_KEY="d1")
        StockItem.objects.filter(store=store).update(quantity=5)
        again = operator_client.post("/stores/abc111", body, HTTP_IDEMPOTENCY_KEY="d1")
        assert first.status_code == again.status_code == 409
        assert again.json()["errors"] == [{"item_id": "apple", "requested": 2, "available": 1}]
        assert stock(store) == {"apple": 5}

    def test_ordinary_user_may_not_write(self, reader_client, store):
        StockItemFactory(store=store, item_id="apple", quantity=2)
        response = reader_client.post(
            "/stores/abc111", {"operation": "demand", "item_id": "apple", "quantity": 1}
        )
        assert response.status_code == 403
        assert stock(store) == {"apple": 2}

    def test_storekeeper_may_write(self, store, client_for):
        client = client_for(StorekeeperFactory())
        response = client.post(
            "/stores/abc111", {"operation": "supply", "item_id": "apple", "quantity": 1}
        )
        assert response.status_code == 200

    def test_write_to_unknown_store_is_404(self, operator_client):
        response = operator_client.post(
            "/stores/nope", {"operation": "supply", "item_id": "a", "quantity": 1}
        )
        assert response.status_code == 404
        assert not StockItem.objects.exists()

    def test_idempotency_key_replays_without_applying_twice(self, operator_client, store):
        body = {"operation": "supply", "item_id": "apple", "quantity": 4}
        first = operator_client.post("/stores/abc111", body, HTTP_IDEMPOTENCY_KEY="k1")
        again = operator_client.post("/stores/abc111", body, HTTP_IDEMPOTENCY_KEY="k1")
        assert again.status_code == 200
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert stock(store) == {"apple": 4}
        other = operator_client.post(
            "/stores/abc111", {**body, "quantity": 5}, HTTP_IDEMPOTENCY_KEY="k1"
        )
        assert other.status_code == 422
        assert stock(store) == {"apple": 4}


@pytest.mark.django_db
class TestGroupOperation:
    def test_group_supply_sums_repeated_ids(self, operator_client, store):
        StockItemFactory(store=store, item_id="a", quantity=1)
        response = operator_client.post(
            "/stores/abc111/group_op",
            {
                "operation": "supply",
                "items": [
                    {"item_id": "b", "quantity": 2},
                    {"item_id": "a", "quantity": 3},
                    {"item_id": "b", "quantity": 5},
                ],
            },
        )
        assert response.status_code == 200
        assert response.json()["store"]["report"] == [
            {"item_id": "a", "quantity": 4},
            {"item_id": "b", "quantity": 7},
        ]
        assert StockMovement.objects.count() == 2
        assert len(set(StockMovement.objects.values_list("request_id", flat=True))) == 1

    def test_group_demand_applies_every_line(self, operator_client, store):
        StockItemFactory(store=store, item_id="a", quantity=5)
        StockItemFactory(store=store, item_id="b", quantity=5)
        response = operator_client.post(
            "/stores/abc111/group_op/",
            {
                "operation": "demand",
                "items": [{"item_id": "a", "quantity": 5}, {"item_id": "b", "quantity": 1}],
            },
        )
        assert response.status_code == 200
        assert response.json()["store"]["report"] == [{"item_id": "b", "quantity": 4}]

    def test_group_demand_is_all_or_nothing_and_lists_every_failed_line(
        self, operator_client, store
    ):
        StockItemFactory(store=store, item_id="a", quantity=5)
        StockItemFactory(store=store, item_id="b", quantity=1)
        response = operator_client.post(
            "/stores/abc111/group_op",
            {
                "operation": "demand",
                "items": [
                    {"item_id": "a", "quantity": 2},
                    {"item_id": "b", "quantity": 1},
                    {"item_id": "b", "quantity": 1},
                    {"item_id": "zz", "quantity": 1},
                ],
            },
        )
        assert response.status_code == 409
        assert response.json()["errors"] == [
            {"item_id": "b", "requested": 2, "available": 1},
            {"item_id": "zz", "requested": 1, "available": 0},
        ]
        assert stock(store) == {"a": 5, "b": 1}
        assert not StockMovement.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"operation": "supply", "items": []},
            {"operation": "supply"},
            {"operation": "supply", "items": [{"item_id": "a", "quantity": 0}]},
            {"operation": "supply", "items": "a"},
            {"operation": "nope", "items": [{"item_id": "a", "quantity": 1}]},
        ],
    )
    def test_bad_group_is_400_and_changes_nothing(self, operator_client, store, body):
        response = operator_client.post("/stores/abc111/group_op", body)
        assert response.status_code == 400
        assert stock(store) == {}


@pytest.mark.django_db
class TestClean:
    def test_clean_empties_store_and_logs_what_was_removed(self, operator_client, store):
        StockItemFactory(store=store, item_id="a", quantity=5)
        StockItemFactory(store=store, item_id="b", quantity=0)
        other = StockItemFactory(store=StoreFactory(store_id="other"), item_id="a", quantity=3)
        for path in ("/stores/abc111/clean", "/stores/abc111/clean/"):
            response = operator_client.post(path)
            assert response.status_code == 200
            assert response.json() == {"store": {"store_id": "abc111", "report": []}}
        assert stock(store) == {"a": 0, "b": 0}
        other.refresh_from_db()
        assert other.quantity == 3
        assert list(StockMovement.objects.values_list("operation", "delta", "quantity_after")) == [
            ("clean", -5, 0)
        ]

    def test_reader_may_not_clean(self, reader_client, store):
        StockItemFactory(store=store, item_id="a", quantity=5)
        assert reader_client.post("/stores/abc111/clean").status_code == 403
        assert stock(store) == {"a": 5}


@pytest.mark.django_db
class TestXlsxReport:
    def test_xlsx_holds_store_time_header_and_items(self, reader_client, store):
        StockItemFactory(store=store, item_id="b", quantity=2)
        StockItemFactory(store=store, item_id="a", quantity=7)
        for path in ("/stores/abc111/xlsx_report", "/stores/abc111/xlsx_report/"):
            response = reader_client.get(path)
            assert response.status_code == 200
            assert response["Content-Type"].startswith("application/vnd.openxmlformats")
            assert 'filename="STORE_abc111.xlsx"' in response["Content-Disposition"]
            sheet = load_workbook(BytesIO(response.content)).active
            rows = list(sheet.iter_rows(values_only=True))
            assert rows[0] == ("Store", "abc111")
            assert rows[1][0] == "Generated at"
            assert rows[3] == ("item_id", "quantity")
            assert rows[4:] == [("a", 7), ("b", 2)]

    def test_xlsx_of_an_item_id_with_control_characters_is_a_workbook(self, reader_client, store):
        StockItemFactory(store=store, item_id="pear\x16\x01", quantity=3)

        response = reader_client.get("/stores/abc111/xlsx_report")

        assert response.status_code == 200
        rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
        assert rows[4] == ("pear\ufffd\ufffd", 3)

    def test_xlsx_asked_for_by_accept_header(self, reader_client, store):
        response = reader_client.get(
            "/stores/abc111/xlsx_report",
            HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        assert response.status_code == 200
        assert response.content[:2] == b"PK"

    def test_xlsx_of_unknown_store_is_json_404(self, reader_client):
        response = reader_client.get("/stores/nope/xlsx_report")
        assert response.status_code == 404
        assert response.json()["code"] == "store_not_found"


@pytest.mark.django_db
class TestMovementsAndStores:
    def test_item_history_newest_first(self, operator_client, operator, store):
        for op, qty in [("supply", 5), ("demand", 2), ("supply", 1)]:
            operator_client.post(
                "/stores/abc111", {"operation": op, "item_id": "a", "quantity": qty}
            )
        operator_client.post(
            "/stores/abc111", {"operation": "supply", "item_id": "b", "quantity": 1}
        )
        response = operator_client.get("/stores/abc111/items/a/movements")
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert [(m["operation"], m["delta"], m["quantity_after"]) for m in body["results"]] == [
            ("supply", 1, 4),
            ("demand", -2, 3),
            ("supply", 5, 5),
        ]
        assert body["results"][0]["user"] == operator.username
        assert operator_client.get("/stores/abc111/movements?item_id=b").json()["count"] == 1
        assert operator_client.get("/stores/abc111/movements/").json()["count"] == 4

    def test_movement_usernames_are_for_operators_only(
        self, operator_client, operator, reader_client, store
    ):
        operator_client.post(
            "/stores/abc111", {"operation": "supply", "item_id": "a", "quantity": 2}
        )
        paths = ["/stores/abc111/movements", "/stores/abc111/items/a/movements"]

        seen_by_operator = [operator_client.get(p).json()["results"][0] for p in paths]
        seen_by_reader = [reader_client.get(p).json()["results"][0] for p in paths]

        assert [m["user"] for m in seen_by_operator] == [operator.username] * 2
        assert [m["user"] for m in seen_by_reader] == [None, None]  # the field stays, empty
        assert [m["quantity_after"] for m in seen_by_reader] == [2, 2]

    def test_movement_list_query_count_is_flat(
        self, operator_client, store, django_assert_max_num_queries
    ):
        for n in range(10):
            operator_client.post(
                "/stores/abc111", {"operation": "supply", "item_id": f"i{n}", "quantity": 1}
            )
        with django_assert_max_num_queries(4):  # token, store, count, page
            response = operator_client.get("/stores/abc111/movements")
        assert response.json()["count"] == 10

    def test_operator_creates_store_and_duplicate_is_409(self, operator_client):
        response = operator_client.post("/stores", {"store_id": "new-1"})
        assert response.status_code == 201
        assert response.json()["store_id"] == "new-1"
        again = operator_client.post("/stores/", {"store_id": "new-1"})
        assert again.status_code == 409
        assert again.json()["code"] == "store_exists"
        assert Store.objects.filter(store_id="new-1").count() == 1

    def test_invalid_store_id_is_400(self, operator_client):
        response = operator_client.post("/stores", {"store_id": "has space"})
        assert response.status_code == 400
        assert not Store.objects.filter(store_id="has space").exists()

    def test_reader_lists_but_may_not_create_stores(self, reader_client, store):
        assert reader_client.get("/stores").json()["count"] == Store.objects.count()
        assert reader_client.post("/stores", {"store_id": "x"}).status_code == 403
        assert not Store.objects.filter(store_id="x").exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_through_the_api_add_up():
    store = StoreFactory(store_id="par")
    operator_token = OperatorFactory().auth_token.key
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(30)

    def call(operation):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {operator_token}")
        try:
            barrier.wait()
            response = client.post(
                "/stores/par", {"operation": operation, "item_id": "x", "quantity": 1}
            )
            with lock:
                statuses.append((operation, response.status_code))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=call, args=(op,)) for op in ["supply"] * 20 + ["demand"] * 10
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    served = sum(1 for op, status in statuses if op == "demand" and status == 200)
    refused = sum(1 for op, status in statuses if op == "demand" and status == 409)
    assert served + refused == 10
    assert all(status == 200 for op, status in statuses if op == "supply")
    assert stock(store) == {"x": 20 - served}
    assert StockMovement.objects.filter(item__store=store).count() == 20 + served
