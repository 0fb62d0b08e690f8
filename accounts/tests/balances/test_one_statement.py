"""On PostgreSQL a posting is one statement, run outside any transaction opened from Python:
a hot account's row lock lives for that statement only."""

from decimal import Decimal

import pytest
from django.db import connection

from accounts.balances import services
from accounts.balances.errors import NotEnoughMoney
from accounts.models import Movement

# the PL/pgSQL posting function
pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def statements():
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def test_a_transfer_is_one_call_outside_any_transaction(funded_account, statements):
    source, target = funded_account("10.00"), funded_account("0.00")
    user = source.user
    statements.clear()
    movement = services.transfer(
        user=user, from_account_id=source.pk, to_account_id=target.pk, amount=Decimal("4")
    )
    assert [sql.split("(")[0] for sql, _atomic in statements] == [
        "SELECT * FROM accounts_post_movement"
    ]
    assert statements[0][1] is False
    assert movement.pk
    assert movement.created_at is not None
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.balance, target.balance) == (Decimal("6.00"), Decimal("4.00"))


def test_a_refused_posting_writes_nothing(funded_account):
    source, target = funded_account("1.00"), funded_account("0.00")
    with pytest.raises(NotEnoughMoney):
        services.transfer(
            user=source.user,
            from_account_id=source.pk,
            to_account_id=target.pk,
            amount=Decimal("4"),
        )
    source.refresh_from_db()
    assert source.balance == Decimal("1.00")
    assert not Movement.objects.filter(kind="transfer").exists()


def test_the_lean_transfer_answer_is_the_serializers(funded_account, settings):
    from accounts.balances.serializers import TransferSerializer, transfer_data

    settings.TIME_ZONE = "Europe/Moscow"
    source, target = funded_account("10.00"), funded_account("0.00")
    for amount in ("4", "0.5", "1.25"):
        movement = services.transfer(
            user=source.user,
            from_account_id=source.pk,
            to_account_id=target.pk,
            amount=Decimal(amount),
            comment="rent ✓",
        )
        assert transfer_data(movement) == TransferSerializer(movement).data
        stored = Movement.objects.get(pk=movement.pk)
        assert transfer_data(stored) == TransferSerializer(stored).data
