"""The balances flows through the HTTP API, and every refusal leaving the money untouched."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Account, Movement
from accounts.tests.balances.factories import (
    AccountFactory,
    ExchangeRateFactory,
    ServiceFactory,
    UserFactory,
)
from accounts.tests.balances.helpers import ledger_snapshot
from core.testing import token_client

pytestmark = pytest.mark.django_db


def test_open_account_creates_rouble_account_then_returns_it(client_for):
    client = client_for(UserFactory())
    first = client.post("/api/v1/accounts/")
    assert first.status_code == 201
    assert first.json()["balance"] == "0.00"
    assert first.json()["currency"] == "RUB"
    again = client.post("/api/v1/accounts/")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Account.objects.count() == 1


def test_seed_flow_deposit_purchase_transfer_history_with_jwt(api_client):
    alice, bob = UserFactory(), UserFactory()
    access = str(RefreshToken.for_user(alice).access_token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    account = api_client.post("/api/v1/accounts/").json()["id"]
    bob_account = AccountFactory(user=bob)
    service = ServiceFactory(price=Decimal("299.00"))

    deposit = api_client.post(
        "/api/v1/actions/", {"account": account, "amount": 1000.5, "comment": "salary"}
    )
    assert deposit.status_code == 201, deposit.json()
    assert deposit.json()["amount"] == "1000.50"
    assert deposit.json()["comment"] == "salary"

    bought = api_client.get(f"/api/v1/services/{service.pk}/purchase/")
    assert bought.status_code == 201
    assert bought.json()["service"] == {
        "id": service.pk,
        "name": service.name,
        "description": service.description,
        "price": "299.00",
    }
    again = api_client.post(f"/api/v1/services/{service.pk}/purchase/", {"comment": "twice"})
    assert again.status_code == 201
    assert again.json()["id"] != bought.json()["id"]

    sent = api_client.post(
        "/api/v1/transfers/",
        {"from_account": str(account), "to_account": str(bob_account.pk), "amount": "100"},
    )
    assert sent.status_code == 201, sent.json()
    assert sent.json()["from_account"] == account
    assert sent.json()["to_account"] == bob_account.pk

    withdrawn = api_client.post(
        "/api/v1/withdrawals/", {"account": account, "amount": "1.50", "comment": "ATM"}
    )
    assert withdrawn.status_code == 201

    balance = api_client.get("/api/v1/accounts/").json()["results"][0]["balance"]
    assert balance == "301.00"  # 1000.50 - 299 - 299 - 100 - 1.50
    assert len(api_client.get("/api/v1/transactions/").json()["results"]) == 2
    assert len(api_client.get("/api/v1/actions/").json()["results"]) == 1
    assert len(api_client.get("/api/v1/transfers/").json()["results"]) == 1
    assert len(api_client.get("/api/v1/withdrawals/").json()["results"]) == 1

    history = api_client.get("/api/v1/history/").json()
    assert history["count"] == 5
    assert [row["type"] for row in history["results"]] == [
        "withdrawal",
        "transfer",
        "purchase",
        "purchase",
        "deposit",
    ]
    assert history["results"][1]["direction"] == "out"
    assert history["results"][1]["counterpart_account"] == bob_account.pk
    assert ledger_discrepancies() == []


def test_incoming_transfers_listed_for_receiver_with_drf_token(api_client, funded_account):
    alice_account = funded_account("50.00")
    bob_account = AccountFactory()
    sender = api_client.__class__()
    sender.force_authenticate(alice_account.user)
    sender.post(
        "/api/v1/transfers/",
        {"from_account": alice_account.pk, "to_account": bob_account.pk, "amount": "20"},
    )
    token = Token.objects.create(user=bob_account.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    incoming = api_client.get("/api/v1/transfers/to_my_account/").json()["results"]
    assert [(t["from_account"], t["amount"]) for t in incoming] == [(alice_account.pk, "20.00")]
    assert api_client.get("/api/v1/transfers/").json()["results"] == []
    history = api_client.get("/api/v1/history/").json()["results"]
    assert history[0]["direction"] == "in"
    assert history[0]["account"] == bob_account.pk
    assert history[0]["counterpart_account"] == alice_account.pk


def test_anonymous_callers_get_401_with_www_authenticate(api_client):
    for path in ["/api/v1/accounts/", "/api/v1/history/", "/api/v1/services/"]:
        response = api_client.get(path)
        assert response.status_code == 401
        assert "WWW-Authenticate" in response


@pytest.mark.parametrize(
    "amount",
    [0, -5, "0.00", "1.001", 0.1 + 0.2, "abc", "NaN", "Infinity", None, True, "1000000000.01"],
)
def test_bad_amounts_are_refused_with_400_and_nothing_changes(client_for, funded_account, amount):
    account = funded_account("100.00")
    other = AccountFactory()
    client = client_for(account.user)
    before = ledger_snapshot()
    requests = [
        ("/api/v1/actions/", {"account": account.pk, "amount": amount}),
        ("/api/v1/withdrawals/", {"account": account.pk, "amount": amount}),
        (
            "/api/v1/transfers/",
            {"from_account": account.pk, "to_account": other.pk, "amount": amount},
        ),
    ]
    for path, body in requests:
        response = client.post(path, body)
        assert response.status_code == 400, (path, response.json())
        assert response.json()["code"]
        assert "amount" in response.json()
    assert ledger_snapshot() == before


def test_withdrawal_beyond_balance_is_refused_with_402_and_nothing_changes(
    client_for, funded_account
):
    account = funded_account("10.00")
    before = ledger_snapshot()
    response = client_for(account.user).post(
        "/api/v1/withdrawals/", {"account": account.pk, "amount": "10.01"}
    )
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_funds"
    assert ledger_snapshot() == before


def test_purchase_beyond_balance_is_refused_with_402_and_nothing_changes(
    client_for, funded_account
):
    account = funded_account("99.99")
    service = ServiceFactory(price=Decimal("100.00"))
    before = ledger_snapshot()
    response = client_for(account.user).post(f"/api/v1/services/{service.pk}/purchase/")
    assert response.status_code == 402
    assert ledger_snapshot() == before


def test_transfer_beyond_balance_is_refused_with_402_and_nothing_changes(
    client_for, funded_account
):
    account, other = funded_account("5.00"), funded_account("1.00")
    before = ledger_snapshot()
    response = client_for(account.user).post(
        "/api/v1/transfers/",
        {"from_account": account.pk, "to_account": other.pk, "amount": "5.01"},
    )
    assert response.status_code == 402
    assert ledger_snapshot() == before


def test_transfer_to_same_account_is_refused_with_400(client_for, funded_account):
    account = funded_account("5.00")
    before = ledger_snapshot()
    response = client_for(account.user).post(
        "/api/v1/transfers/", {"from_account": account.pk, "to_account": account.pk, "amount": 1}
    )
    assert response.status_code == 400
    assert "to_account" in response.json()
    assert ledger_snapshot() == before


@pytest.mark.parametrize("target", [10**9, 2**63 - 1])
def test_transfer_to_unknown_account_is_refused_with_404(client_for, funded_account, target):
    account = funded_account("5.00")
    before = ledger_snapshot()
    response = client_for(account.user).post(
        "/api/v1/transfers/", {"from_account": account.pk, "to_account": target, "amount": 1}
    )
    assert response.status_code == 404
    assert "to_account" in response.json()
    assert ledger_snapshot() == before


@pytest.mark.parametrize("bad_id", [0, -1, 2**63, "x", None, 1.5])
def test_malformed_account_ids_are_refused_with_400(client_for, funded_account, bad_id):
    account = funded_account("5.00")
    before = ledger_snapshot()
    client = client_for(account.user)
    for path, body in [
        ("/api/v1/actions/", {"account": bad_id, "amount": 1}),
        ("/api/v1/transfers/", {"from_account": account.pk, "to_account": bad_id, "amount": 1}),
    ]:
        assert client.post(path, body).status_code == 400
    assert ledger_snapshot() == before


def test_too_long_comment_is_refused_with_400(client_for, funded_account):
    account = funded_account("5.00")
    before = ledger_snapshot()
    response = client_for(account.user).post(
        "/api/v1/actions/", {"account": account.pk, "amount": 1, "comment": "x" * 501}
    )
    assert response.status_code == 400
    assert ledger_snapshot() == before


def test_credit_beyond_the_largest_balance_is_refused_with_409(client_for, settings):
    settings.BALANCE_MAX_AMOUNT = Decimal("999999999999.99")
    account = AccountFactory()
    client = client_for(account.user)
    assert (
        client.post(
            "/api/v1/actions/", {"account": account.pk, "amount": "999999999999.99"}
        ).status_code
        == 201
    )
    before = ledger_snapshot()
    response = client.post("/api/v1/actions/", {"account": account.pk, "amount": "0.01"})
    assert response.status_code == 409
    assert response.json()["code"] == "balance_limit"
    assert ledger_snapshot() == before


def test_purchase_without_account_is_refused_with_409(client_for):
    service = ServiceFactory()
    before = ledger_snapshot()
    response = client_for(UserFactory()).post(f"/api/v1/services/{service.pk}/purchase/")
    assert response.status_code == 409
    assert response.json()["code"] == "no_account"
    assert ledger_snapshot() == before


def test_archived_or_unknown_service_cannot_be_bought(client_for, funded_account):
    account = funded_account("500.00")
    archived = ServiceFactory(is_active=False)
    client = client_for(account.user)
    before = ledger_snapshot()
    for service_id in [archived.pk, 10**9, 2**70]:
        assert client.post(f"/api/v1/services/{service_id}/purchase/").status_code == 404
    assert ledger_snapshot() == before


# --- one user cannot see or move another's money ------------------------------------------


def test_nobody_sees_or_moves_someone_elses_money(client_for, funded_account):
    alice = funded_account("100.00")
    bob = funded_account("100.00")
    service = ServiceFactory(price=Decimal("10.00"))
    alice_client = client_for(alice.user)
    alice_client.post(f"/api/v1/services/{service.pk}/purchase/")
    alice_client.post("/api/v1/withdrawals/", {"account": alice.pk, "amount": 1})
    alice_client.post(
        "/api/v1/transfers/", {"from_account": alice.pk, "to_account": bob.pk, "amount": 1}
    )

    mallory = client_for(UserFactory())
    mallory_account = mallory.post("/api/v1/accounts/").json()["id"]
    before = ledger_snapshot()
    assert mallory.get(f"/api/v1/accounts/{alice.pk}/").status_code == 404
    for path, body in [
        ("/api/v1/actions/", {"account": alice.pk, "amount": 1}),
        ("/api/v1/withdrawals/", {"account": alice.pk, "amount": 1}),
        ("/api/v1/transfers/", {"from_account": alice.pk, "to_account": mallory_account}),
        ("/api/v1/transfers/", {"from_account": bob.pk, "to_account": alice.pk}),
    ]:
        response = mallory.post(path, {"amount": 1, **body})
        assert response.status_code == 404, (path, response.json())
    assert ledger_snapshot() == before
    for path in [
        "/api/v1/accounts/",
        "/api/v1/actions/",
        "/api/v1/withdrawals/",
        "/api/v1/transactions/",
        "/api/v1/transfers/",
        "/api/v1/transfers/to_my_account/",
    ]:
        ids = {row["id"] for row in mallory.get(path).json()["results"]}
        assert ids <= {mallory_account}, path
    assert mallory.get("/api/v1/history/").json()["count"] == 0


# --- services catalogue ---------------------------------------------------------------------


def test_only_operators_manage_services(client_for):
    operator = UserFactory(is_staff=True)
    user_client, operator_client = client_for(UserFactory()), client_for(operator)
    body = {"name": "Boost", "description": "Up", "price": "15.50"}
    assert user_client.post("/api/v1/services/", body).status_code == 403
    created = operator_client.post("/api/v1/services/", body)
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], **body}
    service_id = created.json()["id"]
    assert user_client.patch(f"/api/v1/services/{service_id}/", {"price": 1}).status_code == 403
    assert operator_client.patch(f"/api/v1/services/{service_id}/", {"price": 1}).status_code == 200
    assert operator_client.post("/api/v1/services/", {**body, "price": 0}).status_code == 400
    assert user_client.delete(f"/api/v1/services/{service_id}/").status_code == 403
    assert operator_client.delete(f"/api/v1/services/{service_id}/").status_code == 204
    assert user_client.get("/api/v1/services/").json()["results"] == []


# --- currencies -----------------------------------------------------------------------------


def test_balance_in_another_currency_shows_rate_and_its_date(client_for, funded_account):
    account = funded_account("1000.00")
    ExchangeRateFactory(currency="USD", date="2026-01-01", rate=Decimal("80"))
    newest = ExchangeRateFactory(currency="USD", date="2026-01-09", rate=Decimal("92.5058"))
    client = client_for(account.user)
    row = client.get("/api/v1/accounts/?currency=usd").json()["results"][0]
    assert row["currency"] == "USD"
    assert row["balance"] == "10.81"  # 1000 / 92.5058 = 10.8101...
    assert row["rate"] == "92.5058"
    assert row["rate_date"] == newest.date
    detail = client.get(f"/api/v1/accounts/{account.pk}/?currency=USD").json()
    assert detail["balance"] == "10.81"
    plain = client.get("/api/v1/accounts/").json()["results"][0]
    assert plain["balance"] == "1000.00"
    assert "rate" not in plain


def test_unknown_currency_is_400_and_known_without_rate_is_503(client_for, funded_account):
    client = client_for(funded_account("10.00").user)
    for code in ["XYZ", "dollars", "12"]:
        response = client.get(f"/api/v1/accounts/?currency={code}")
        assert response.status_code == 400, code
        assert "currency" in response.json()
    response = client.get("/api/v1/accounts/?currency=MXN")
    assert response.status_code == 503
    assert response.json()["code"] == "rate_unavailable"


# --- history --------------------------------------------------------------------------------


def test_history_orders_by_amount_and_date_and_pages_stably(client_for, funded_account):
    account = funded_account("5.00")
    client = client_for(account.user)
    for amount in ["3.00", "1.00", "3.00", "2.00"]:
        client.post("/api/v1/actions/", {"account": account.pk, "amount": amount})

    def amounts(ordering: str) -> list[tuple[int, str]]:
        rows, page = [], 1
        while True:
            body = client.get(f"/api/v1/history/?ordering={ordering}&page_size=2&page={page}")
            rows += [(r["id"], r["amount"]) for r in body.json()["results"]]
            if not body.json()["next"]:
                return rows
            page += 1

    by_amount = amounts("amount")
    assert [a for _, a in by_amount] == ["1.00", "2.00", "3.00", "3.00", "5.00"]
    assert len({i for i, _ in by_amount}) == 5
    assert [a for _, a in amounts("-amount")] == ["5.00", "3.00", "3.00", "2.00", "1.00"]
    ids_newest_first = [i for i, _ in amounts("-created_at")]
    assert ids_newest_first == sorted(ids_newest_first, reverse=True)
    assert [i for i, _ in amounts("created_at")] == sorted(ids_newest_first)
    assert client.get("/api/v1/history/").json()["results"][0]["id"] == ids_newest_first[0]
    assert client.get("/api/v1/history/?ordering=balance").status_code == 400
    assert client.get("/api/v1/history/?type=deposit").json()["count"] == 5
    assert client.get("/api/v1/history/?type=purchase").json()["count"] == 0


def test_history_query_count_does_not_grow_with_rows(
    client_for, funded_account, django_assert_num_queries
):
    account = funded_account("1000.00")
    other = AccountFactory()
    service = ServiceFactory(price=Decimal("1.00"))
    client = client_for(account.user)
    for _ in range(5):
        client.post(f"/api/v1/services/{service.pk}/purchase/")
        client.post("/api/v1/transfers/", {"from_account": account.pk, "to_account": other.pk,
                                           "amount": 1})  # fmt: skip
    # account ids, count, page (services joined)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/history/").json()["count"] == 11
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/transactions/").json()["results"]) == 5
    assert Movement.objects.count() == 11


def test_purchase_by_get_takes_comment_from_query_and_key_covers_it(funded_account):
    account = funded_account("100.00")
    service = ServiceFactory(price=Decimal("10.00"))
    client = token_client(account.user)
    path = f"/api/v1/services/{service.pk}/purchase/"
    first = client.get(f"{path}?comment=gift", HTTP_IDEMPOTENCY_KEY="g")
    assert first.status_code == 201
    assert first.json()["comment"] == "gift"
    before = ledger_snapshot()
    assert client.get(f"{path}?comment=other", HTTP_IDEMPOTENCY_KEY="g").status_code == 422
    assert client.get(f"{path}?comment=gift", HTTP_IDEMPOTENCY_KEY="g").json() == first.json()
    assert ledger_snapshot() == before


def test_purchase_by_get_with_a_session_cookie_alone_is_403_and_spends_nothing(funded_account):
    # A cross-site <img src=".../purchase/"> carries the session cookie; GET has no CSRF check.
    account = funded_account("100.00")
    service = ServiceFactory(price=Decimal("10.00"))
    client = APIClient()
    client.force_login(account.user)
    path = f"/api/v1/services/{service.pk}/purchase/"
    before = ledger_snapshot()

    answers = [client.get(path, HTTP_REFERER="https://evil.example/"), client.head(path)]

    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["code"] == "header_auth_required"
    assert ledger_snapshot() == before
    account.refresh_from_db()
    assert account.balance == Decimal("100.00")


def test_purchase_by_get_with_a_bearer_jwt_still_buys(funded_account):
    account = funded_account("100.00")
    service = ServiceFactory(price=Decimal("10.00"))
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(account.user).access_token}"
    )

    answer = client.get(f"/api/v1/services/{service.pk}/purchase/")

    assert answer.status_code == 201
    account.refresh_from_db()
    assert account.balance == Decimal("90.00")


def test_unknown_ids_in_urls_are_404_never_500(client_for, funded_account):
    client = client_for(funded_account("1.00").user)
    for path in [
        f"/api/v1/services/{2**70}/",
        f"/api/v1/accounts/{2**70}/",
        "/api/v1/services/abc/",
        "/api/v1/accounts/999999/",
    ]:
        assert client.get(path).status_code == 404, path


def test_history_in_another_currency_uses_the_rate_of_each_movements_day(
    client_for, funded_account
):
    account = funded_account("184.00")  # today
    ExchangeRateFactory(currency="USD", date="2026-01-01", rate=Decimal("80"))
    ExchangeRateFactory(currency="USD", date="2026-01-10", rate=Decimal("92"))
    old = Movement.objects.create(  # a ledger row from a day the newer rate did not exist yet
        kind="deposit",
        credit_account=account,
        amount=Decimal("160.00"),
        created_at="2026-01-05T12:00:00+03:00",
    )
    client = client_for(account.user)
    rows = {r["id"]: r for r in client.get("/api/v1/history/?currency=USD").json()["results"]}
    assert rows[old.pk]["converted"] == {
        "currency": "USD",
        "amount": "2.00",
        "rate": "80",
        "rate_date": "2026-01-01",
    }
    today = next(r for r in rows.values() if r["id"] != old.pk)
    assert today["amount"] == "184.00"
    assert today["converted"]["amount"] == "2.00"
    assert today["converted"]["rate_date"] == "2026-01-10"
    assert "converted" not in client.get("/api/v1/history/").json()["results"][0]
    assert client.get("/api/v1/history/?currency=XYZ").status_code == 400
    assert client.get("/api/v1/history/?currency=MXN").status_code == 503
