"""Hostile bodies, URLs and JSON answer a 4xx JSON error, never a 500."""

import json

import pytest
from django.test import Client

from core.testing import token_client
from receipts.models import DeadLetter, Receipt
from receipts.tests.factories import PosUserFactory, receipt_payload
from stores.tests.factories import OperatorFactory, StoreFactory

MIB = 1024 * 1024


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture(autouse=True)
def journal_path(settings, tmp_path):
    settings.RECEIPTS_JOURNAL_PATH = str(tmp_path / "receipts.jsonl")
    return tmp_path / "receipts.jsonl"


def _json_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/auth/login/", "/api/v1/transfers/", "/api/checks/"])
def test_body_over_the_small_limit_answers_413(client, path):
    body = json.dumps({"username": "x" * (3_400_000)})

    response = client.post(path, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.django_db
def test_bulk_takes_bodies_past_the_small_limit_up_to_32_mib(journal_path):
    pos = PosUserFactory()
    # ~3.4 MB: 1,000 receipts with long product ids.
    body = [
        receipt_payload(f"big-{n}", items=[(1, "1.00", "c" * 100)], place_name="x" * 250)
        for n in range(1000)
    ]
    for receipt in body:
        receipt["padding"] = "p" * 3000
    raw = json.dumps(body)
    assert len(raw) > 3 * MIB

    response = token_client(pos).post("/api/checks/bulk/", raw, content_type="application/json")

    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1000


@pytest.mark.django_db
def test_bulk_over_32_mib_answers_413_without_reading(client):
    pos = PosUserFactory()
    response = client.generic(
        "POST",
        "/api/checks/bulk/",
        b"[]",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {pos.auth_token.key}",
        CONTENT_LENGTH=str(32 * MIB + 1),
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not Receipt.objects.exists()


@pytest.mark.urls("core.tests.urls")
def test_request_data_too_big_from_a_form_read_answers_413(client, settings):
    # A form body is read through request.POST, capped by DATA_UPLOAD_MAX_MEMORY_SIZE.
    settings.LARGE_BODY_PATHS = {"/api/test/echo": 10 * MIB}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(
        "/api/test/echo/", "name=" + "x" * 5000, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.django_db
def test_json_nested_100000_deep_answers_400(client):
    deep = "[" * 100_000 + "]" * 100_000

    response = client.post("/api/login/", deep, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "nesting_too_deep"


@pytest.mark.urls("core.tests.urls")
def test_json_deeper_than_the_limit_answers_400_and_shallower_passes(client, settings):
    settings.JSON_MAX_DEPTH = 5
    too_deep = {"name": "x", "amount": "1", "extra": [[[[["deep"]]]]]}
    fine = {"name": "x", "amount": "1", "extra": [[["ok"]]]}

    assert (
        client.post("/api/test/echo/", too_deep, content_type="application/json").json()["code"]
        == "nesting_too_deep"
    )
    assert client.post("/api/test/echo/", fine, content_type="application/json").status_code == 200


@pytest.mark.urls("core.tests.urls")
def test_nul_anywhere_in_a_json_body_answers_400(client):
    body = {"name": "ok", "amount": "1", "other": {"deep\u0000key": 1}}

    response = client.post("/api/test/echo/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


@pytest.mark.django_db
def test_receipt_with_nul_is_400_dead_lettered_and_journalled(journal_path):
    bad = receipt_payload("nul-1")
    bad["items"][0]["product_id"] = "p\u0000"

    response = token_client(PosUserFactory()).post("/api/checks/", bad, format="json")

    assert response.status_code == 400
    assert response.json()["items"][0]["product_id"] == ["Null characters are not allowed."]
    assert not Receipt.objects.exists()
    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetter.Reason.INVALID
    assert letter.payload["items"][0]["product_id"] == "p\\u0000"
    [line] = _json_lines(journal_path)
    assert line["outcome"] == "invalid"
    assert line["receipt"]["items"][0]["product_id"] == "p\u0000"


@pytest.mark.django_db
def test_bulk_of_valid_and_nul_stores_the_valid_and_reports_the_other(journal_path):
    bad = receipt_payload("nul\u0000id")
    bad["items"][0]["product_id"] = "p\u0000"

    response = token_client(PosUserFactory()).post(
        "/api/checks/bulk/", [receipt_payload("ok-1"), bad], format="json"
    )

    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["invalid"]) == (1, 1)
    assert data["results"][1]["status"] == "invalid"
    assert list(Receipt.objects.values_list("transaction_id", flat=True)) == ["ok-1"]
    letter = DeadLetter.objects.get()
    assert letter.transaction_id == "nul\\u0000id"
    assert [line["outcome"] for line in _json_lines(journal_path)] == ["created", "invalid"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/stores/%00", "/stores/abc111/movements?item_id=%00"])
def test_nul_in_the_url_answers_400(path):
    StoreFactory(store_id="abc111")
    response = token_client(OperatorFactory()).get(path)

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
