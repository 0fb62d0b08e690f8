"""Invariants kept by the database itself, and the ledger verifier (command and task)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, connection, transaction

from accounts.balances import demo, services
from accounts.balances.errors import InvalidAmount, NotEnoughMoney
from accounts.balances.tasks import verify_ledger
from accounts.demo import seed as seed_users
from accounts.models import Account, ExchangeRate, Movement, Service
from accounts.tests.balances.helpers import ledger_snapshot

pytestmark = pytest.mark.django_db


def test_database_refuses_a_negative_balance(funded_account):
    account = funded_account("5.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))


@pytest.mark.postgres_only  # the append-only triggers are PL/pgSQL
def test_database_refuses_to_change_or_delete_a_movement(funded_account):
    account = funded_account("5.00")
    movement = Movement.objects.get(credit_account=account)
    with pytest.raises((InternalError, IntegrityError)), transaction.atomic():
        Movement.objects.filter(pk=movement.pk).update(amount=Decimal("500.00"))
    with pytest.raises((InternalError, IntegrityError)), transaction.atomic():
        Movement.objects.filter(pk=movement.pk).delete()
    assert Movement.objects.get(pk=movement.pk).amount == Decimal("5.00")


def test_database_refuses_a_movement_of_the_wrong_shape(funded_account):
    account = funded_account("5.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(
            kind="transfer",
            debit_account=account,
            credit_account=account,
            amount=1,
            created_at="2026-01-01T00:00Z",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.create(
            kind="deposit", credit_account=account, amount=0, created_at="2026-01-01T00:00Z"
        )


def test_verify_ledger_reports_a_tampered_balance(funded_account):
    good, bad = funded_account("10.00"), funded_account("10.00")
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "OK" in out.getvalue()
    assert verify_ledger() == 0

    with connection.cursor() as cursor:  # a hand edit that bypasses the services
        cursor.execute("UPDATE accounts_account SET balance = 12.34 WHERE id = %s", [bad.pk])
    err = StringIO()
    with pytest.raises(CommandError, match="1 account"):
        call_command("verify_ledger", stdout=StringIO(), stderr=err)
    assert f"account {bad.pk}: balance 12.34 != movements sum 10.00" in err.getvalue()
    assert f"account {good.pk}:" not in err.getvalue()
    assert verify_ledger() == 1


def test_services_refuse_directly_too(funded_account):
    account = funded_account("5.00")
    before = ledger_snapshot()
    with pytest.raises(NotEnoughMoney):
        services.withdraw(user=account.user, account_id=account.pk, amount=Decimal("5.01"))
    for amount in [Decimal("0"), Decimal("-1"), Decimal("0.001"), Decimal("NaN"), 5]:
        with pytest.raises(InvalidAmount):
            services.deposit(user=account.user, account_id=account.pk, amount=amount)
    assert ledger_snapshot() == before


def test_demo_seed_is_idempotent_and_consistent():
    seed_users(stdout=StringIO())
    lines = demo.seed(stdout=StringIO())
    first = ledger_snapshot()
    demo.seed(stdout=StringIO())
    assert ledger_snapshot() == first
    assert any("curl" in line for line in lines)
    assert Account.objects.get(user__username="alice").balance == Decimal("1000.00")
    assert Service.objects.count() == len(demo.DEMO_SERVICES)
    assert set(ExchangeRate.objects.values_list("currency", flat=True)) == set(demo.DEMO_RATES)
    assert verify_ledger() == 0
