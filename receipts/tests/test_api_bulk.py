import pytest

from receipts.models import DeadLetter, Receipt
from receipts.tests.factories import receipt_payload

pytestmark = pytest.mark.django_db


def test_bulk_answers_one_result_per_receipt_in_order(
    pos_client, read_journal, django_capture_on_commit_callbacks
):
    pos_client.post("/api/checks/", receipt_payload("old"), format="json")
    body = [
        receipt_payload("a"),
        receipt_payload("old"),  # accepted before, same content
        receipt_payload("old", place_name="Other"),  # accepted before, other content
        receipt_payload("b", total_amount="1.00"),  # invalid
        receipt_payload("a"),  # twice in this request
        {"nonsense": True},
    ]

    with django_capture_on_commit_callbacks() as callbacks:
        response = pos_client.post("/api/checks/bulk/", body, format="json")

    assert response.status_code == 200
    data = response.json()
    assert [(r["index"], r["transaction_id"], r["status"]) for r in data["results"]] == [
        (0, "a", "created"),
        (1, "old", "duplicate"),
        (2, "old", "conflict"),
        (3, "b", "invalid"),
        (4, "a", "duplicate"),
        (5, "", "invalid"),
    ]
    assert "total_amount" in data["results"][3]["errors"]
    assert (data["created"], data["duplicates"], data["conflicts"], data["invalid"]) == (1, 2, 1, 2)
    assert set(Receipt.objects.values_list("transaction_id", flat=True)) == {"a", "old"}
    assert DeadLetter.objects.filter(channel="bulk").count() == 3
    assert len(callbacks) == 1
    assert len(read_journal()) == 1 + 6  # one line per received receipt


def test_bulk_refuses_more_than_1000_receipts_and_stores_nothing(pos_client):
    body = [receipt_payload(f"t{n}") for n in range(1001)]

    response = pos_client.post("/api/checks/bulk/", body, format="json")

    assert response.status_code == 400
    assert "1000" in response.json()["detail"]
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("body", [[], {"transaction_id": "x"}])
def test_bulk_refuses_a_body_that_is_not_a_non_empty_array(pos_client, body):
    response = pos_client.post("/api/checks/bulk/", body, format="json")

    assert response.status_code == 400
    assert not Receipt.objects.exists()
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.MALFORMED


def test_bulk_of_1000_is_accepted(pos_client):
    body = [receipt_payload(f"t{n}") for n in range(1000)]

    response = pos_client.post("/api/checks/bulk", body, format="json")

    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Receipt.objects.count() == 1000


def test_bulk_judges_a_repeated_id_against_the_stored_receipt(pos_client):
    pos_client.post("/api/checks/", receipt_payload("s"), format="json")
    body = [receipt_payload("s", place_name="Other"), receipt_payload("s")]

    response = pos_client.post("/api/checks/bulk/", body, format="json")

    assert [r["status"] for r in response.json()["results"]] == ["conflict", "duplicate"]


@pytest.mark.django_db(transaction=True)
def test_parallel_bulks_sharing_ids_store_each_once(pos, client_for):
    import threading

    from django.db import connection

    ids = [f"t{n:03d}" for n in range(200)]
    orders = [ids, ids[::-1], ids[50:] + ids[:50], ids[::-1]]
    barrier = threading.Barrier(len(orders))
    answers = []

    def post(order) -> None:
        try:
            client = client_for(pos)
            barrier.wait()
            body = [receipt_payload(tid) for tid in order]
            answers.append(client.post("/api/checks/bulk/", body, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [200] * len(orders)
    assert sum(answer.json()["created"] for answer in answers) == 200
    assert sum(answer.json()["duplicates"] for answer in answers) == 600
    assert Receipt.objects.count() == 200
