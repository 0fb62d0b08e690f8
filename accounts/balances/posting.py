"""Posting a movement: the one place where balances change.

A posting locks the accounts it touches, checks that the caller owns the account money leaves
(or, for a deposit, arrives at), that a target exists, that the debited balance covers the
amount and that the credited one stays below the largest balance; then it updates the balances
and appends the ledger row, all or nothing. Refusals change nothing and are raised here as the
app's errors (accounts.balances.errors: 404, 402, 409).

Concurrency: accounts are locked with SELECT ... FOR UPDATE in primary-key order, so crossing
transfers (A->B and B->A) queue instead of deadlocking, and `lock_timeout`
(BALANCE_LOCK_TIMEOUT_MS) bounds the wait: past it the request answers 503 with Retry-After
instead of hanging. The database CHECK (balance >= 0) backs the funds check up.

This is the hot path `bench/transfers.py` measures. On PostgreSQL a posting is ONE call of
the PL/pgSQL function `accounts_post_movement` (migration accounts 0006): it sets lock_timeout
for its transaction, locks the rows with SELECT ... FOR UPDATE in id order, decides on the rows
as locked, writes the balances and appends the movement. Outside a transaction that call is its
own transaction, so a hot account's row lock lives for one statement, not across BEGIN, lock,
write and COMMIT sent from Python. (A single plain statement doing the locking and the writing
as CTEs was measured to judge funds on a stale row version under crossing transfers; the
function's statements each see the rows as locked.) The embedded SQLite quick start runs the
same steps from Python (`_post_in_python`), with new balances computed in Decimal.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.balances.errors import AccountBusy, BalanceLimit, NoSuchAccount, NotEnoughMoney
from accounts.models import Account, Movement
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, round_money

logger = logging.getLogger(__name__)

# The largest balance NUMERIC(14, 2) holds; a credit beyond it is refused, not a 500.
MAX_BALANCE = Decimal(10 ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)) - Decimal("0.01")

_LOCK_TIMEOUT_SQLSTATES = {"55P03", "40P01"}  # lock_not_available, deadlock_detected


@dataclass(frozen=True)
class Posting:
    """One movement to post. `own` must belong to `user_id`; `other` only has to exist."""

    user_id: int
    kind: str
    amount: Decimal
    own_field: str
    own_id: int
    debit_id: int | None = None
    credit_id: int | None = None
    other_field: str | None = None
    other_id: int | None = None
    service_id: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class _Outcome:
    own_ok: bool
    other_ok: bool
    debit_balance: Decimal | None
    movement_id: int | None  # None: refused, nothing written
    created_at: dt.datetime | None


def post(posting: Posting) -> Movement:
    """Post the movement or raise the refusal (404, 402, 409, 503); see the module doc."""
    try:
        outcome = _post(posting)
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            logger.warning("Lock timeout on accounts %s/%s", posting.debit_id, posting.credit_id)
            raise AccountBusy() from exc
        raise
    if outcome.movement_id is None:
        _raise_refusal(posting, outcome)
    return Movement(
        pk=outcome.movement_id,
        kind=posting.kind,
        debit_account_id=posting.debit_id,
        credit_account_id=posting.credit_id,
        amount=posting.amount,
        service_id=posting.service_id,
        comment=posting.comment,
        created_at=outcome.created_at,
    )


def _raise_refusal(posting: Posting, outcome: _Outcome) -> NoReturn:
    if not outcome.own_ok:
        raise NoSuchAccount(_("No such account of yours."), field=posting.own_field)
    if not outcome.other_ok:
        raise NoSuchAccount(_("No such account."), field=posting.other_field)
    if posting.debit_id and outcome.debit_balance < posting.amount:
        raise NotEnoughMoney(
            _("Not enough money: the balance is %(balance)s, %(amount)s is needed.")
            % {"balance": outcome.debit_balance, "amount": posting.amount}
        )
    raise BalanceLimit(_("The balance may not exceed %(max)s.") % {"max": MAX_BALANCE})


def _post(posting: Posting) -> _Outcome:
    if connection.vendor == "postgresql":
        return _post_in_database(posting)
    return _post_in_python(posting)


_POST_SQL = "SELECT * FROM accounts_post_movement(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _post_in_database(posting: Posting) -> _Outcome:
    """One round trip: the function locks, decides and writes (see the migration)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _POST_SQL,
            [
                posting.user_id,
                str(posting.kind),
                posting.amount,
                posting.own_id,
                posting.debit_id,
                posting.credit_id,
                posting.other_id,
                posting.service_id,
                posting.comment,
                MAX_BALANCE,
                int(settings.BALANCE_LOCK_TIMEOUT_MS),
            ],
        )
        own_ok, other_ok, debit_balance, movement_id, created_at = cursor.fetchone()
    if debit_balance is not None:
        debit_balance = _as_money(debit_balance)
    return _Outcome(own_ok, other_ok, debit_balance, movement_id, created_at)


def _post_in_python(posting: Posting) -> _Outcome:
    """Lock, decide in Decimal, write: one transaction (a savepoint inside an outer one)."""
    ids = sorted({i for i in (posting.debit_id, posting.credit_id) if i})
    with transaction.atomic(), connection.cursor() as cursor:
        rows = _lock(cursor, ids)
        own_ok = posting.own_id in rows and rows[posting.own_id][0] == posting.user_id
        other_ok = posting.other_id is None or posting.other_id in rows
        debit_balance = rows[posting.debit_id][1] if posting.debit_id in rows else None
        refused = _Outcome(own_ok, other_ok, debit_balance, None, None)
        if not (own_ok and other_ok):
            return refused
        balances = {}
        if posting.debit_id:
            balances[posting.debit_id] = debit_balance - posting.amount
            if balances[posting.debit_id] < 0:
                return refused
        if posting.credit_id:
            balances[posting.credit_id] = rows[posting.credit_id][1] + posting.amount
            if balances[posting.credit_id] > MAX_BALANCE:
                return refused
        created_at = timezone.now()  # once the locks are held: history follows commit order
        movement_id = _write(cursor, posting, balances, created_at)
    return _Outcome(True, True, debit_balance, movement_id, created_at)


def _lock(cursor, ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Lock the accounts in id order; {id: (user_id, balance)} of those that exist."""
    placeholders = ", ".join(["%s"] * len(ids))
    select = (
        f"SELECT id, user_id, balance FROM {Account._meta.db_table}"
        f" WHERE id IN ({placeholders}) ORDER BY id"
    )
    # SQLite has no row locks; the settings open its transactions IMMEDIATE, which takes the
    # database write lock at BEGIN and so serializes postings.
    cursor.execute(select, ids)
    return {row[0]: (row[1], _as_money(row[2])) for row in cursor.fetchall()}


def _write(cursor, posting: Posting, balances: dict[int, Decimal], created_at) -> int:
    """Store the new balances of the locked accounts and append the movement; its id."""
    cases = " ".join(["WHEN %s THEN %s"] * len(balances))
    placeholders = ", ".join(["%s"] * len(balances))
    update = (
        f"UPDATE {Account._meta.db_table} SET balance = CASE id {cases} END"
        f" WHERE id IN ({placeholders})"
    )
    update_params = [*(value for pair in balances.items() for value in pair), *balances]
    insert = (
        f"INSERT INTO {Movement._meta.db_table} (kind, debit_account_id, credit_account_id,"
        " amount, service_id, comment, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id"
    )
    insert_params = [
        str(posting.kind),
        posting.debit_id,
        posting.credit_id,
        posting.amount,
        posting.service_id,
        posting.comment,
        connection.ops.adapt_datetimefield_value(created_at),
    ]
    cursor.execute(update, update_params)
    cursor.execute(insert, insert_params)
    return cursor.fetchone()[0]


def _as_money(value) -> Decimal:
    return value if isinstance(value, Decimal) else round_money(Decimal(str(value)))


def _is_lock_timeout(exc: OperationalError) -> bool:
    if getattr(exc.__cause__, "pgcode", None) in _LOCK_TIMEOUT_SQLSTATES:
        return True
    return connection.vendor == "sqlite" and "locked" in str(exc)
