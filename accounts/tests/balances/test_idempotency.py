"""`Idempotency-Key` on every money write: replay, 422 on reuse, one effect under a stampede."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Account, Movement
from accounts.tests.balances.factories import AccountFactory, ServiceFactory
from accounts.tests.balances.helpers import ledger_snapshot


def writes(account, other, service) -> list[tuple[str, dict]]:
    return [
        ("/api/v1/actions/", {"account": account.pk, "amount": "5.00", "comment": "c"}),
        ("/api/v1/withdrawals/", {"account": account.pk, "amount": "5.00"}),
        ("/api/v1/transfers/", {"from_account": account.pk, "to_account": other.pk, "amount": 5}),
        (f"/api/v1/services/{service.pk}/purchase/", {}),
    ]


@pytest.mark.django_db
def test_retry_with_same_key_replays_first_answer_and_changes_nothing(client_for, funded_account):
    account, other = funded_account("100.00"), AccountFactory()
    service = ServiceFactory(price=Decimal("7.00"))
    client = client_for(account.user)
    for index, (path, body) in enumerate(writes(account, other, service)):
        key = f"key-{index}"
        first = client.post(path, body, HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == 201, first.json()
        after_first = ledger_snapshot()
        retry = client.post(path, body, HTTP_IDEMPOTENCY_KEY=key)
        assert retry.status_code == 201
        assert retry.json() == first.json()
        assert retry["Idempotent-Replayed"] == "true"
        assert ledger_snapshot() == after_first
    account.refresh_from_db()
    assert account.balance == Decimal("88.00")  # 100 + 5 - 5 - 5 - 7


@pytest.mark.django_db
def test_same_key_with_different_body_is_422_and_changes_nothing(client_for, funded_account):
    account = funded_account("100.00")
    client = client_for(account.user)
    body = {"account": account.pk, "amount": "5.00"}
    assert client.post("/api/v1/withdrawals/", body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    before = ledger_snapshot()
    response = client.post(
        "/api/v1/withdrawals/", {**body, "amount": "6.00"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_refusal_is_replayed_as_refusal_even_after_money_arrives(client_for, funded_account):
    account = funded_account("1.00")
    client = client_for(account.user)
    body = {"account": account.pk, "amount": "5.00"}
    assert client.post("/api/v1/withdrawals/", body, HTTP_IDEMPOTENCY_KEY="w").status_code == 402
    client.post("/api/v1/actions/", {"account": account.pk, "amount": 100})
    before = ledger_snapshot()
    assert client.post("/api/v1/withdrawals/", body, HTTP_IDEMPOTENCY_KEY="w").status_code == 402
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_keys_belong_to_their_user(client_for, funded_account):
    alice, bob = funded_account("10.00"), funded_account("10.00")
    for account in (alice, bob):
        response = client_for(account.user).post(
            "/api/v1/withdrawals/",
            {"account": account.pk, "amount": "1.00"},
            HTTP_IDEMPOTENCY_KEY="shared-key",
        )
        assert response.status_code == 201
        assert response.json()["account"] == account.pk
    assert Movement.objects.filter(kind="withdrawal").count() == 2


@pytest.mark.postgres_only  # fifty concurrent writers on row locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "kind", ["deposit", "withdrawal", "transfer", "purchase"], ids=lambda kind: kind
)
def test_fifty_concurrent_requests_with_one_key_make_exactly_one_movement(funded_account, kind):
    account, other = funded_account("100.00"), AccountFactory()
    service = ServiceFactory(price=Decimal("5.00"))
    path, body = dict(zip(["deposit", "withdrawal", "transfer", "purchase"],
                          writes(account, other, service), strict=True))[kind]  # fmt: skip
    barrier = threading.Barrier(50)

    def send(_):
        try:
            client = APIClient()
            client.force_authenticate(account.user)
            barrier.wait()
            response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="stampede")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, range(50)))
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert Movement.objects.filter(kind=kind).count() == (2 if kind == "deposit" else 1)
    account.refresh_from_db()
    expected = {"deposit": "105.00", "withdrawal": "95.00", "transfer": "95.00"}
    assert account.balance == Decimal(expected.get(kind, "95.00"))
    assert Account.objects.get(pk=other.pk).balance == Decimal("5.00" if kind == "transfer" else 0)
    assert ledger_discrepancies() == []
