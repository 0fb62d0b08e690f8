import copy
import threading

import pytest

from receipts.models import DeadLetter, Purchase, Receipt
from receipts.tests.factories import EXAMPLE_RECEIPT, receipt_payload

pytestmark = pytest.mark.django_db


def without(field):
    def mutate(body):
        del body[field]

    return mutate


def setting(field, value):
    def mutate(body):
        body[field] = value

    return mutate


def item_setting(field, value):
    def mutate(body):
        body["items"][0][field] = value

    return mutate


def item_without(field):
    def mutate(body):
        del body["items"][0][field]

    return mutate


INVALID = [
    *[
        (f"missing {field}", without(field), field)
        for field in (
            "transaction_id",
            "timestamp",
            "items",
            "total_amount",
            "nds_amount",
            "payment_method",
            "place_id",
            "place_name",
        )
    ],
    *[
        (f"item missing {field}", item_without(field), "items")
        for field in ("product_id", "quantity", "price", "category")
    ],
    ("transaction_id not a string", setting("transaction_id", 123), "transaction_id"),
    ("blank place_id", setting("place_id", "  "), "place_id"),
    ("null place_name", setting("place_name", None), "place_name"),
    ("timestamp not a date", setting("timestamp", "yesterday"), "timestamp"),
    ("timestamp a bare date", setting("timestamp", "2024-02-07"), "timestamp"),
    ("timestamp a number", setting("timestamp", 1707300000), "timestamp"),
    ("items empty", setting("items", []), "items"),
    ("items not a list", setting("items", {"product_id": "x"}), "items"),
    ("item not an object", setting("items", ["milk"]), "items"),
    ("zero quantity", item_setting("quantity", 0), "items"),
    ("fractional quantity", item_setting("quantity", 1.5), "items"),
    ("quantity a string", item_setting("quantity", "two"), "items"),
    ("quantity a boolean", item_setting("quantity", True), "items"),
    ("negative price", item_setting("price", -1), "items"),
    ("price not a number", item_setting("price", "ten"), "items"),
    ("price with 3 decimals", item_setting("price", 10.999), "items"),
    ("negative total", setting("total_amount", -27.47), "total_amount"),
    ("total a list", setting("total_amount", [27.47]), "total_amount"),
    ("negative nds", setting("nds_amount", -1), "nds_amount"),
    ("negative tips", setting("tips_amount", -3), "tips_amount"),
    ("nan total", setting("total_amount", "NaN"), "total_amount"),
    ("mismatched total", setting("total_amount", 30.47), "total_amount"),
    ("total includes tips", setting("total_amount", 30.47), "total_amount"),
]


@pytest.mark.parametrize(("case", "mutate", "field"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_receipt_is_refused_with_the_field_and_nothing_is_stored(
    pos_client, read_journal, case, mutate, field
):
    body = copy.deepcopy(EXAMPLE_RECEIPT)
    mutate(body)

    response = pos_client.post("/api/checks/", body, format="json")

    assert response.status_code == 400, response.json()
    data = response.json()
    assert field in data
    assert data["detail"].startswith(f"{field}: ")
    assert not Receipt.objects.exists()
    assert not Purchase.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetter.Reason.INVALID
    assert field in letter.errors
    [line] = read_journal()
    assert line["outcome"] == "invalid"
    assert field in line["errors"]


def test_item_errors_point_at_the_item(pos_client):
    body = receipt_payload(items=[(1, "1.00", "a"), (1, "2.00", "b")])
    body["items"][1]["quantity"] = 0

    response = pos_client.post("/api/checks/", body, format="json")

    assert response.status_code == 400
    assert response.json()["items"] == [
        {},
        {"quantity": ["Ensure this value is greater than or equal to 1."]},
    ]


def test_example_receipt_is_accepted_with_201_and_the_stored_receipt(
    pos_client, pos, django_capture_on_commit_callbacks
):
    body = {**EXAMPLE_RECEIPT, "loyalty_card": "ignored"}

    with django_capture_on_commit_callbacks() as callbacks:
        response = pos_client.post("/api/checks/", body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["transaction_id"] == "unique_transaction_id"
    assert data["timestamp"] == "2024-02-07T12:34:56+03:00"  # naive: read in Europe/Moscow
    assert data["total_amount"] == "27.47"
    assert data["tips_amount"] == "3.00"
    assert data["items"][0] == {
        "product_id": "product_id_1",
        "quantity": 2,
        "price": "10.99",
        "category": "groceries",
    }
    assert "loyalty_card" not in data
    receipt = Receipt.objects.get()
    assert receipt.posted_by == pos
    assert receipt.channel == "checks"
    assert len(callbacks) == 1  # the event goes to the stream only after commit


def test_tips_are_optional(pos_client):
    body = receipt_payload()
    del body["tips_amount"]

    response = pos_client.post("/api/checks/", body, format="json")

    assert response.status_code == 201
    assert response.json()["tips_amount"] == "0.00"


def test_total_may_differ_from_the_items_by_one_kopeck(pos_client):
    response = pos_client.post("/api/checks/", receipt_payload(total_amount="27.48"), format="json")

    assert response.status_code == 201


def test_timestamp_with_offset_is_kept_as_that_moment(pos_client):
    response = pos_client.post(
        "/api/checks/", receipt_payload(timestamp="2024-02-07T09:34:56Z"), format="json"
    )

    assert response.json()["timestamp"] == "2024-02-07T12:34:56+03:00"


def test_same_receipt_again_answers_200_with_the_stored_one_and_stores_nothing(
    pos_client, read_journal, django_capture_on_commit_callbacks
):
    first = pos_client.post("/api/checks/", receipt_payload(), format="json")
    # The same content written differently (string amounts, more zeros) is the same receipt.
    again = receipt_payload(total_amount="27.470", nds_amount="2.47", tips_amount=3)

    with django_capture_on_commit_callbacks() as callbacks:
        second = pos_client.post("/api/checks/", again, format="json")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Receipt.objects.count() == 1
    assert callbacks == []  # nothing is published again
    assert [line["outcome"] for line in read_journal()] == ["created", "duplicate"]


def test_same_transaction_id_with_other_content_is_a_409_conflict(pos_client, read_journal):
    pos_client.post("/api/checks/", receipt_payload(), format="json")

    response = pos_client.post(
        "/api/checks/", receipt_payload(place_name="Другой магазин"), format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "transaction_id_conflict"
    assert Receipt.objects.get().place_name == "Магазин №1"
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.CONFLICT
    assert read_journal()[-1]["outcome"] == "conflict"


def test_body_that_is_not_json_is_a_400_and_journalled(pos_client, read_journal):
    response = pos_client.post("/api/checks/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert not Receipt.objects.exists()
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.MALFORMED
    assert read_journal()[0]["outcome"] == "invalid"


def test_body_that_is_a_list_is_a_400(pos_client):
    response = pos_client.post("/api/checks/", [EXAMPLE_RECEIPT], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Receipt.objects.exists()


def test_path_without_trailing_slash_works(pos_client):
    response = pos_client.post("/api/checks", receipt_payload(), format="json")

    assert response.status_code == 201


def test_add_checks_counts_the_receipt_before_answering(pos_client):
    response = pos_client.post("/api/add_checks/", receipt_payload(), format="json")

    assert response.status_code == 201
    purchase = Purchase.objects.get()
    assert purchase.transaction_id == "tx-1"
    assert Receipt.objects.get().channel == "add_checks"


def test_add_checks_after_checks_counts_once_and_answers_200(pos_client):
    pos_client.post("/api/checks/", receipt_payload(), format="json")

    first = pos_client.post("/api/add_checks/", receipt_payload(), format="json")
    second = pos_client.post("/api/add_checks", receipt_payload(), format="json")

    assert first.status_code == second.status_code == 200
    assert Purchase.objects.count() == 1
    assert Receipt.objects.count() == 1


def test_add_checks_validates_like_checks(pos_client):
    response = pos_client.post(
        "/api/add_checks/", receipt_payload(total_amount="1.00"), format="json"
    )

    assert response.status_code == 400
    assert "total_amount" in response.json()
    assert not Purchase.objects.exists()


def test_form_encoded_body_is_a_415_and_journalled(pos_client, read_journal):
    response = pos_client.post("/api/checks/", {"transaction_id": "x"}, format="multipart")

    assert response.status_code == 415
    assert not Receipt.objects.exists()
    assert read_journal()[0]["outcome"] == "invalid"


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_of_one_receipt_store_it_once(pos, client_for):
    from django.db import connection

    barrier = threading.Barrier(6)
    statuses = []

    def post() -> None:
        try:
            client = client_for(pos)
            barrier.wait()
            response = client.post("/api/checks/", receipt_payload(), format="json")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 5 + [201]
    assert Receipt.objects.count() == 1


def test_oversized_body_is_a_413_and_nothing_is_stored(pos_client, read_journal):
    body = receipt_payload(place_name="x" * (1024 * 1024))

    response = pos_client.post("/api/checks/", body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not Receipt.objects.exists()
    # Refused by its Content-Length before the body was read: no receipt was received.
    assert read_journal() == []


@pytest.mark.parametrize("value", [-1e30, "-1e30", -4.79e16, "1e400", -(10**40)])
@pytest.mark.parametrize("path", ["/api/checks/", "/api/add_checks/"])
def test_money_far_out_of_range_is_a_400_not_a_500(pos_client, path, value):
    body = receipt_payload("huge", total_amount=value)

    response = pos_client.post(path, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["total_amount"]
