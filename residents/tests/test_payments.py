"""Charges for residents and paying them from the balance: one rent movement to the house's
collection account, the charge marked paid in the same transaction, every refusal changing
nothing; operators see paid, partly paid, unpaid, the debt and the debtors."""

import io
from decimal import Decimal

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Movement
from accounts.tests.balances.helpers import ledger_snapshot
from billing.models import Charge
from residents.models import ChargePayment, CollectionAccount
from residents.tests.factories import (
    PAST,
    charge_of,
    collector,
    funded_account,
    house_with_residents,
    run_rent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed():
    """Two flats with a resident each, charged for PAST, a collection account."""
    house, users = house_with_residents(flats=2)
    run_rent(house, *PAST)
    return house, users, collector(house)


@pytest.fixture
def pay(client_for):
    """`pay(user, charge, **body)`: the user pays the charge through the API."""

    def pay(user, charge, **body):
        return client_for(user).post(f"/api/v1/me/charges/{charge.pk}/pay/", body, format="json")

    return pay


def test_resident_reads_own_charges_month_by_month(billed, client_for):
    house, [user, other], _collector = billed
    body = client_for(user).get("/api/v1/me/charges/?year=2024&month=1").json()
    [line] = body["results"]
    charge = charge_of(user)
    assert line["id"] == charge.pk
    assert Decimal(line["water"]) + Decimal(line["upkeep"]) == Decimal(line["total"])
    assert line["payment_state"] == "unpaid"
    assert line["due"] == line["total"]
    assert client_for(user).get(f"/api/v1/me/charges/{charge_of(other).pk}/").status_code == 404


def test_resident_statement_has_only_their_flat(billed, client_for):
    house, [user, other], _collector = billed
    flat = charge_of(user).flat
    answer = client_for(user).get(f"/api/v1/me/flats/{flat.pk}/statement/?year=2024&month=1")
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.content)).active.values)
    assert [row[0] for row in rows[2:-1]] == [flat.number]
    assert rows[-1][7] == float(charge_of(user).total)
    theirs = charge_of(other).flat
    assert (
        client_for(user)
        .get(f"/api/v1/me/flats/{theirs.pk}/statement/?year=2024&month=1")
        .status_code
        == 404
    )


def test_full_payment_moves_money_and_marks_the_charge_paid(billed, operator_client, pay):
    house, [user, _other], collection = billed
    charge = charge_of(user)
    account = funded_account(user, "10000")
    answer = pay(user, charge)
    assert answer.status_code == 201, answer.content
    assert answer.json()["charge"]["payment_state"] == "paid"
    movement = Movement.objects.get(kind=Movement.Kind.RENT)
    assert (movement.debit_account_id, movement.credit_account_id) == (account.pk, collection.pk)
    assert movement.amount == charge.total
    account.refresh_from_db()
    collection.refresh_from_db()
    assert account.balance == Decimal("10000") - charge.total
    assert collection.balance == charge.total
    assert ledger_discrepancies() == []
    again = pay(user, charge)
    assert again.status_code == 409
    assert again.json()["code"] == "charge_paid"


def test_part_payments_then_the_rest(billed, pay):
    house, [user, _other], _collection = billed
    charge = charge_of(user)
    funded_account(user, "10000")
    assert pay(user, charge, amount="100.00").json()["charge"]["payment_state"] == "partly_paid"
    over = pay(user, charge, amount=str(charge.total))
    assert over.status_code == 409
    assert over.json()["code"] == "overpayment"
    rest = pay(user, charge)
    assert rest.status_code == 201
    assert Decimal(rest.json()["amount"]) == charge.total - 100
    charge.refresh_from_db()
    assert charge.paid_amount == charge.total
    assert ChargePayment.objects.filter(charge=charge).count() == 2


@pytest.mark.parametrize(
    ("amount", "status"), [("0", 400), ("-5", 400), ("1.001", 400), ("abc", 400)]
)
def test_bad_amounts_are_400_and_change_nothing(billed, amount, status, pay):
    house, [user, _other], _collection = billed
    funded_account(user, "10000")
    before = ledger_snapshot()
    assert pay(user, charge_of(user), amount=amount).status_code == status
    assert ledger_snapshot() == before


def test_not_enough_money_is_402_and_changes_nothing(billed, pay):
    house, [user, _other], _collection = billed
    charge = charge_of(user)
    funded_account(user, "1.00")
    before = ledger_snapshot()
    answer = pay(user, charge)
    assert answer.status_code == 402
    assert answer.json()["code"] == "insufficient_funds"
    assert ledger_snapshot() == before
    charge.refresh_from_db()
    assert charge.paid_amount == 0


def test_no_account_and_no_collection_account_are_409(billed, pay):
    house, [user, _other], _collection = billed
    charge = charge_of(user)
    answer = pay(user, charge)
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_account"
    funded_account(user, "10000")
    CollectionAccount.objects.all().delete()
    answer = pay(user, charge)
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_collection_account"


def test_global_collection_account_from_settings(billed, pay):
    house, [user, _other], collection = billed
    CollectionAccount.objects.all().delete()
    funded_account(user, "10000")
    with override_settings(RENT_COLLECTION_ACCOUNT_ID=collection.pk):
        assert pay(user, charge_of(user)).status_code == 201
    collection.refresh_from_db()
    assert collection.balance == charge_of(user).total


def test_another_residents_charge_is_404(billed, pay):
    house, [user, other], _collection = billed
    funded_account(user, "10000")
    before = ledger_snapshot()
    assert pay(user, charge_of(other)).status_code == 404
    assert ledger_snapshot() == before


def test_idempotency_key_pays_once(billed, client_for):
    house, [user, _other], _collection = billed
    charge = charge_of(user)
    funded_account(user, "10000")
    client = client_for(user)
    url = f"/api/v1/me/charges/{charge.pk}/pay/"
    first = client.post(url, {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = client.post(url, {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Movement.objects.filter(kind=Movement.Kind.RENT).count() == 1


def test_a_recalculation_keeps_the_charge_and_what_was_paid(billed, pay):
    house, [user, _other], _collection = billed
    charge = charge_of(user)
    funded_account(user, "10000")
    pay(user, charge, amount="10.00")
    house.tariffs.create(kind="upkeep", price=Decimal("25.00"), valid_from="2023-01-01")
    run_rent(house, *PAST, recalculate=True)
    again = Charge.objects.get(pk=charge.pk)
    assert again.paid_amount == Decimal("10.00")
    assert again.total != charge.total


def test_operator_sees_payments_debtors_and_xlsx(billed, operator_client, client_for, pay):
    house, [user, other], _collection = billed
    funded_account(user, "10000")
    pay(user, charge_of(user))
    url = f"/api/v1/houses/{house.pk}/payments/?year=2024&month=1"
    body = operator_client.get(url).json()
    assert (body["flats"], body["paid"], body["partly_paid"], body["unpaid"]) == (2, 1, 0, 1)
    assert Decimal(body["debt"]) == charge_of(other).total
    [debtor] = body["debtors"]
    assert debtor["residents"] == [other.pk]
    assert debtor["payment_state"] == "unpaid"
    xlsx = operator_client.get(f"/api/v1/houses/{house.pk}/debtors.xlsx?year=2024&month=1")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[3][0] == charge_of(other).flat.number
    assert client_for(user).get(url).status_code == 403
    assert operator_client.get(f"/api/v1/houses/{house.pk}/payments/?year=2024").status_code == 400
    assert (
        operator_client.get("/api/v1/houses/999999/payments/?year=2024&month=1").status_code == 404
    )


def test_operator_designates_the_collection_account(operator_client):
    house, [user, _other] = house_with_residents()
    account = funded_account(user, "0")
    url = f"/api/v1/houses/{house.pk}/collection-account/"
    assert (
        operator_client.put(url, {"account": account.pk}, format="json").json()["account"]
        == account.pk
    )
    assert operator_client.get(url).json()["effective_account"] == account.pk
    assert operator_client.put(url, {"account": None}, format="json").json()["account"] is None
    assert operator_client.put(url, {"account": 99999}, format="json").status_code == 400
