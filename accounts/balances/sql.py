"""Balances' raw SQL, each statement beside its SQLite twin (core.db picks one).

A posting on PostgreSQL is ONE call of the PL/pgSQL function `accounts_post_movement`
(migration accounts 0006): it sets lock_timeout for its transaction, locks the rows with
SELECT ... FOR UPDATE in id order, decides on the rows as locked, writes the balances and
appends the movement. Outside a transaction that call is its own transaction, so a hot
account's row lock lives for one statement, not across BEGIN, lock, write and COMMIT sent from
Python. (A single plain statement doing the locking and the writing as CTEs was measured to
judge funds on a stale row version under crossing transfers; the function's statements each
see the rows as locked.) The SQLite twin (the embedded quick start) runs the same steps from
Python, with the new balances computed in Decimal.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Movement
from core.db import by_vendor
from core.money import round_money


@dataclass(frozen=True)
class MovementToPost:
    """The movement to post: `own_id` must belong to `user_id`, `other_id` only has to exist."""

    user_id: int
    kind: str
    amount: Decimal
    own_id: int
    debit_id: int | None
    credit_id: int | None
    other_id: int | None
    service_id: int | None
    comment: str


@dataclass(frozen=True)
class PostingOutcome:
    own_ok: bool
    other_ok: bool
    debit_balance: Decimal | None
    movement_id: int | None  # None: refused, nothing written
    created_at: dt.datetime | None


def post_movement(movement: MovementToPost, *, max_balance: Decimal) -> PostingOutcome:
    """Lock the accounts, decide, and (when allowed) write the balances and the movement."""
    post = by_vendor(postgresql=_post_movement, sqlite=_post_movement_sqlite)
    return post(movement, max_balance=max_balance)


_POST_SQL = "SELECT * FROM accounts_post_movement(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _post_movement(movement: MovementToPost, *, max_balance: Decimal) -> PostingOutcome:
    with connection.cursor() as cursor:
        cursor.execute(
            _POST_SQL,
            [
                movement.user_id,
                str(movement.kind),
                movement.amount,
                movement.own_id,
                movement.debit_id,
                movement.credit_id,
                movement.other_id,
                movement.service_id,
                movement.comment,
                max_balance,
                int(settings.BALANCE_LOCK_TIMEOUT_MS),
            ],
        )
        own_ok, other_ok, debit_balance, movement_id, created_at = cursor.fetchone()
    if debit_balance is not None:
        debit_balance = _as_money(debit_balance)
    return PostingOutcome(own_ok, other_ok, debit_balance, movement_id, created_at)


def _post_movement_sqlite(movement: MovementToPost, *, max_balance: Decimal) -> PostingOutcome:
    """Lock, decide in Decimal, write: one transaction (a savepoint inside an outer one)."""
    ids = sorted({i for i in (movement.debit_id, movement.credit_id) if i})
    with transaction.atomic(), connection.cursor() as cursor:
        rows = _lock(cursor, ids)
        own_ok = movement.own_id in rows and rows[movement.own_id][0] == movement.user_id
        other_ok = movement.other_id is None or movement.other_id in rows
        debit_balance = rows[movement.debit_id][1] if movement.debit_id in rows else None
        refused = PostingOutcome(own_ok, other_ok, debit_balance, None, None)
        if not (own_ok and other_ok):
            return refused
        balances = {}
        if movement.debit_id:
            if debit_balance is None:  # the account to debit does not exist: own_ok is False
                return refused
            balances[movement.debit_id] = debit_balance - movement.amount
            if balances[movement.debit_id] < 0:
                return refused
        if movement.credit_id:
            balances[movement.credit_id] = rows[movement.credit_id][1] + movement.amount
            if balances[movement.credit_id] > max_balance:
                return refused
        created_at = timezone.now()  # once the locks are held: history follows commit order
        movement_id = _write(cursor, movement, balances, created_at)
    return PostingOutcome(True, True, debit_balance, movement_id, created_at)


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


def _write(cursor, movement: MovementToPost, balances: dict[int, Decimal], created_at) -> int:
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
        str(movement.kind),
        movement.debit_id,
        movement.credit_id,
        movement.amount,
        movement.service_id,
        movement.comment,
        connection.ops.adapt_datetimefield_value(created_at),
    ]
    cursor.execute(update, update_params)
    cursor.execute(insert, insert_params)
    return cursor.fetchone()[0]


def balances_against_ledger() -> list[tuple[int, Decimal, Decimal]]:
    """(account id, cached balance, sum of its movements) of every account, in id order. One
    statement both databases run."""
    accounts = Account._meta.db_table
    movements = Movement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, a.balance, COALESCE(c.total, 0) - COALESCE(d.total, 0)
            FROM {accounts} a
            LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS total FROM {movements}
                       WHERE credit_account_id IS NOT NULL GROUP BY credit_account_id) c
                   ON c.id = a.id
            LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS total FROM {movements}
                       WHERE debit_account_id IS NOT NULL GROUP BY debit_account_id) d
                   ON d.id = a.id
            ORDER BY a.id
            """
        )
        return [
            (account_id, round_money(Decimal(str(balance))), round_money(Decimal(str(ledger))))
            for account_id, balance, ledger in cursor.fetchall()
        ]


def _as_money(value) -> Decimal:
    return value if isinstance(value, Decimal) else round_money(Decimal(str(value)))
