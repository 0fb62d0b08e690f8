"""Money writes: opening accounts, deposits, withdrawals, purchases, transfers, rates.

Every balance change goes through `_post_movement`, the one place that locks accounts, checks
funds and writes the ledger row. It is the hot path `bench/transfers.py` measures, so it speaks
SQL through the connection's cursor (a handful of statements, no ORM machinery) and stays
portable to the embedded SQLite demo database.

Concurrency: the accounts a movement touches are locked with SELECT ... FOR UPDATE in primary
key order inside one transaction, so crossing transfers (A->B and B->A) queue instead of
deadlocking; new balances are computed in Decimal from the locked rows. `lock_timeout`
(BALANCE_LOCK_TIMEOUT_MS) bounds the wait: a request that cannot get its locks in time is
answered 503 with Retry-After instead of hanging. The database CHECK (balance >= 0) backs the
funds check up.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework import exceptions

from accounts.balances import rates as rates_provider
from accounts.models import Account, ExchangeRate, Movement, Service
from core.exceptions import Conflict, PaymentRequired, ServiceUnavailable
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, round_money

logger = logging.getLogger(__name__)

# The largest balance NUMERIC(14, 2) holds; a credit beyond it is refused, not a 500.
MAX_BALANCE = Decimal(10 ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)) - Decimal("0.01")

_LOCK_TIMEOUT_SQLSTATES = {"55P03", "40P01"}  # lock_not_available, deadlock_detected


class AccountBusy(ServiceUnavailable):
    default_detail = "The account is busy with other operations; retry shortly."
    default_code = "account_busy"
    wait = 1  # DRF's exception handler turns this into `Retry-After: 1`


@dataclass(frozen=True)
class _LockedAccount:
    user_id: int
    balance: Decimal


def open_account(*, user) -> tuple[Account, bool]:
    """Return the user's rouble account, creating it on first call; `(account, created)`."""
    return Account.objects.get_or_create(user=user)


def check_amount(amount: Decimal) -> Decimal:
    """Refuse amounts that are not positive, have more than 2 decimals or exceed the maximum."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise exceptions.ValidationError({"amount": ["Must be a decimal number."]})
    if amount != round_money(amount):
        raise exceptions.ValidationError({"amount": ["At most 2 decimal places."]})
    if amount <= 0:
        raise exceptions.ValidationError({"amount": ["Must be greater than 0."]})
    if amount > settings.BALANCE_MAX_AMOUNT:
        raise exceptions.ValidationError(
            {"amount": [f"Must be at most {settings.BALANCE_MAX_AMOUNT}."]}
        )
    return round_money(amount)


def deposit(*, user, account_id: int, amount: Decimal, comment: str = "") -> Movement:
    """Credit `amount` to the user's own account."""
    return _post_movement(
        user=user,
        kind=Movement.Kind.DEPOSIT,
        amount=amount,
        credit_id=account_id,
        own=("account", account_id),
        comment=comment,
    )


def withdraw(*, user, account_id: int, amount: Decimal, comment: str = "") -> Movement:
    """Debit `amount` from the user's own account; 402 if the balance is too low."""
    return _post_movement(
        user=user,
        kind=Movement.Kind.WITHDRAWAL,
        amount=amount,
        debit_id=account_id,
        own=("account", account_id),
        comment=comment,
    )


def purchase(*, user, service_id: int, comment: str = "") -> Movement:
    """Buy an active service at its current price from the user's account (402 if short)."""
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise exceptions.NotFound("No such service.")
    account_id = Account.objects.filter(user=user).values_list("pk", flat=True).first()
    if account_id is None:
        raise Conflict("Open an account first: POST /api/v1/accounts/.", code="no_account")
    movement = _post_movement(
        user=user,
        kind=Movement.Kind.PURCHASE,
        amount=service.price,
        debit_id=account_id,
        own=("account", account_id),
        service_id=service.pk,
        comment=comment,
    )
    movement.service = service
    return movement


def transfer(
    *, user, from_account_id: int, to_account_id: int, amount: Decimal, comment: str = ""
) -> Movement:
    """Move `amount` from the user's account to any other account (402 if short)."""
    if from_account_id == to_account_id:
        raise exceptions.ValidationError({"to_account": ["Cannot transfer to the same account."]})
    return _post_movement(
        user=user,
        kind=Movement.Kind.TRANSFER,
        amount=amount,
        debit_id=from_account_id,
        credit_id=to_account_id,
        own=("from_account", from_account_id),
        other=("to_account", to_account_id),
        comment=comment,
    )


def _post_movement(
    *,
    user,
    kind: str,
    amount: Decimal,
    own: tuple[str, int],
    other: tuple[str, int] | None = None,
    debit_id: int | None = None,
    credit_id: int | None = None,
    service_id: int | None = None,
    comment: str = "",
) -> Movement:
    """Lock the accounts, check ownership and funds, update balances, append the movement.

    `own` names the (field, account id) that must belong to `user`; `other` an account that
    only has to exist. Unknown or someone else's accounts answer 404 naming the field.
    """
    amount = check_amount(amount)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            accounts = _lock_accounts(cursor, sorted({i for i in (debit_id, credit_id) if i}))
            field, account_id = own
            if account_id not in accounts or accounts[account_id].user_id != user.pk:
                raise exceptions.NotFound({field: ["No such account of yours."]})
            if other and other[1] not in accounts:
                raise exceptions.NotFound({other[0]: ["No such account."]})
            balances = {}
            if debit_id:
                balances[debit_id] = accounts[debit_id].balance - amount
                if balances[debit_id] < 0:
                    raise PaymentRequired(
                        f"Not enough money: the balance is {accounts[debit_id].balance}, "
                        f"{amount} is needed."
                    )
            if credit_id:
                balances[credit_id] = accounts[credit_id].balance + amount
                if balances[credit_id] > MAX_BALANCE:
                    raise Conflict(
                        f"The balance may not exceed {MAX_BALANCE}.", code="balance_limit"
                    )
            created_at = timezone.now()  # once the locks are held: history follows commit order
            movement_id = _write_balances_and_movement(
                cursor,
                balances,
                kind=kind,
                debit_id=debit_id,
                credit_id=credit_id,
                amount=amount,
                service_id=service_id,
                comment=comment,
                created_at=created_at,
            )
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            logger.warning("Lock timeout on accounts %s/%s", debit_id, credit_id)
            raise AccountBusy() from exc
        raise
    return Movement(
        pk=movement_id,
        kind=kind,
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        amount=amount,
        service_id=service_id,
        comment=comment,
        created_at=created_at,
    )


def _lock_accounts(cursor, ids: list[int]) -> dict[int, _LockedAccount]:
    table = Account._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    select = f"SELECT id, user_id, balance FROM {table} WHERE id IN ({placeholders}) ORDER BY id"
    if connection.vendor == "postgresql":
        # One round trip: bound the lock wait for this transaction, then lock in id order.
        timeout_ms = int(settings.BALANCE_LOCK_TIMEOUT_MS)
        cursor.execute(f"SET LOCAL lock_timeout = {timeout_ms}; {select} FOR UPDATE", ids)
    else:
        # SQLite (embedded demo): the IMMEDIATE transaction already holds the database lock.
        cursor.execute(select, ids)
    return {
        row[0]: _LockedAccount(user_id=row[1], balance=_as_money(row[2]))
        for row in cursor.fetchall()
    }


def _write_balances_and_movement(
    cursor,
    balances: dict[int, Decimal],
    *,
    kind: str,
    debit_id: int | None,
    credit_id: int | None,
    amount: Decimal,
    service_id: int | None,
    comment: str,
    created_at,
) -> int:
    """Store the new balances of the locked accounts and append the movement; its id."""
    cases = " ".join(["WHEN %s THEN %s"] * len(balances))
    placeholders = ", ".join(["%s"] * len(balances))
    update = (
        f"UPDATE {Account._meta.db_table} SET balance = CASE id {cases} END "
        f"WHERE id IN ({placeholders})"
    )
    update_params = [*(value for pair in balances.items() for value in pair), *balances]
    insert = (
        f"INSERT INTO {Movement._meta.db_table} (kind, debit_account_id, credit_account_id,"
        " amount, service_id, comment, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id"
    )
    insert_params = [
        str(kind),
        debit_id,
        credit_id,
        amount,
        service_id,
        comment,
        connection.ops.adapt_datetimefield_value(created_at),
    ]
    if connection.vendor == "postgresql":
        # One round trip: PostgreSQL always runs a data-modifying WITH to completion.
        cursor.execute(f"WITH updated AS ({update}) {insert}", update_params + insert_params)
    else:
        cursor.execute(update, update_params)
        cursor.execute(insert, insert_params)
    return cursor.fetchone()[0]


def _as_money(value) -> Decimal:
    return value if isinstance(value, Decimal) else round_money(Decimal(str(value)))


def _is_lock_timeout(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "pgcode", None) in _LOCK_TIMEOUT_SQLSTATES:
        return True
    return connection.vendor == "sqlite" and "locked" in str(exc)


def archive_service(*, service: Service) -> Service:
    """Hide a service from the catalogue; its past purchases stay in the ledger."""
    if service.is_active:
        service.is_active = False
        service.save(update_fields=["is_active", "updated_at"])
    return service


def refresh_exchange_rates(*, url: str | None = None) -> int:
    """Fetch the provider's rates and upsert them by (currency, date); returns how many.

    Raises `rates.RatesProviderError` when the provider is down or unreadable; the rates
    already stored stay as they were.
    """
    url = url or settings.EXCHANGE_RATES_URL
    quoted = rates_provider.fetch_rates(url=url)
    ExchangeRate.objects.bulk_create(
        [ExchangeRate(currency=q.currency, date=q.date, rate=q.rate, source=url) for q in quoted],
        update_conflicts=True,
        unique_fields=["currency", "date"],
        update_fields=["rate", "source", "fetched_at"],
    )
    logger.info("Stored %d exchange rates from %s", len(quoted), url)
    return len(quoted)
