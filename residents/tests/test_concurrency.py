"""Real threads, each with its own PostgreSQL connection, paying the same charges at once."""

from decimal import Decimal

import pytest

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Movement
from accounts.tests.balances.test_concurrency import run_in_threads
from billing.models import Charge
from residents.models import ChargePayment, Residency
from residents.tests.factories import (
    PAST,
    charge_of,
    collector,
    funded_account,
    house_with_residents,
    run_rent,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pay(client_for):
    """`pay(user, charge_id, amount=None)` in a client of its own; returns the status code."""

    def pay(user, charge_id, amount=None):
        body = {} if amount is None else {"amount": amount}
        answer = client_for(user).post(f"/api/v1/me/charges/{charge_id}/pay/", body, format="json")
        return answer.status_code

    return pay


def test_parallel_payments_of_one_charge_pay_it_once(pay):
    house, [user, _other] = house_with_residents(flats=2)
    run_rent(house, *PAST)
    collection = collector(house)
    account = funded_account(user, "100000")
    charge = charge_of(user)

    statuses = run_in_threads(12, lambda _i: pay(user, charge.pk))

    assert sorted(statuses) == [201] + [409] * 11, statuses
    charge.refresh_from_db()
    account.refresh_from_db()
    collection.refresh_from_db()
    assert charge.paid_amount == charge.total
    assert account.balance == Decimal("100000") - charge.total
    assert collection.balance == charge.total
    assert Movement.objects.filter(kind=Movement.Kind.RENT).count() == 1
    assert ledger_discrepancies() == []


def test_parallel_part_payments_never_exceed_the_total(pay):
    house, [user, _other] = house_with_residents(flats=2)
    run_rent(house, *PAST)
    collector(house)
    funded_account(user, "100000")
    charge = charge_of(user)
    part = (charge.total / 3).quantize(Decimal("0.01"))

    statuses = run_in_threads(8, lambda _i: pay(user, charge.pk, str(part)))

    assert statuses.count(201) == 3, statuses  # a fourth third would be more than due
    charge.refresh_from_db()
    assert charge.paid_amount == part * 3 <= charge.total
    assert sum(ChargePayment.objects.values_list("amount", flat=True)) == charge.paid_amount
    assert ledger_discrepancies() == []


def test_parallel_payments_of_two_charges_from_one_account_leave_the_ledger_exact(pay):
    house, [user, other] = house_with_residents(flats=2)
    Residency.objects.create(user=user, flat=house.flats.get(number=2))  # pays for both flats
    run_rent(house, *PAST)
    collection = collector(house)
    charges = list(Charge.objects.filter(house=house).order_by("pk"))
    # Enough for one of the two charges and not both: one wins, the other is 402.
    funds = max(c.total for c in charges) + Decimal("1.00")
    account = funded_account(user, str(funds))

    statuses = run_in_threads(10, lambda i: (charges[i % 2].pk, pay(user, charges[i % 2].pk)))

    paid = [c for c in Charge.objects.filter(house=house) if c.paid_amount]
    assert len(paid) == 1, statuses
    codes = sorted(code for _charge, code in statuses)
    assert codes.count(201) == 1
    assert set(codes) <= {201, 402, 409}
    account.refresh_from_db()
    collection.refresh_from_db()
    assert account.balance == funds - paid[0].total
    assert collection.balance == paid[0].total
    assert ledger_discrepancies() == []
