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
a PL/pgSQL function; the embedded SQLite quick start runs the same steps from Python (both in
accounts/balances/sql.py).
"""

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from django.db import OperationalError
from django.utils.translation import gettext as _

from accounts.balances import sql
from accounts.balances.errors import AccountBusy, BalanceLimit, NoSuchAccount, NotEnoughMoney
from accounts.models import Movement
from core.db import is_lock_wait_failure
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

logger = logging.getLogger(__name__)

# The largest balance NUMERIC(14, 2) holds; a credit beyond it is refused, not a 500.
MAX_BALANCE = Decimal(10 ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)) - Decimal("0.01")


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


def post(posting: Posting) -> Movement:
    """Post the movement or raise the refusal (404, 402, 409, 503); see the module doc."""
    try:
        outcome = _post(posting)
    except OperationalError as exc:
        if is_lock_wait_failure(exc):
            logger.warning("Lock timeout on accounts %s/%s", posting.debit_id, posting.credit_id)
            raise AccountBusy() from exc
        raise
    if outcome.movement_id is None or outcome.created_at is None:  # written: both are set
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


def _raise_refusal(posting: Posting, outcome: sql.PostingOutcome) -> NoReturn:
    if not outcome.own_ok:
        raise NoSuchAccount(_("No such account of yours."), field=posting.own_field)
    if not outcome.other_ok:
        raise NoSuchAccount(_("No such account."), field=posting.other_field)
    # An account that does not exist has no balance, and was refused above.
    balance = outcome.debit_balance
    if posting.debit_id and balance is not None and balance < posting.amount:
        raise NotEnoughMoney(
            _("Not enough money: the balance is %(balance)s, %(amount)s is needed.")
            % {"balance": outcome.debit_balance, "amount": posting.amount}
        )
    raise BalanceLimit(_("The balance may not exceed %(max)s.") % {"max": MAX_BALANCE})


def _post(posting: Posting) -> sql.PostingOutcome:
    movement = sql.MovementToPost(
        user_id=posting.user_id,
        kind=posting.kind,
        amount=posting.amount,
        own_id=posting.own_id,
        debit_id=posting.debit_id,
        credit_id=posting.credit_id,
        other_id=posting.other_id,
        service_id=posting.service_id,
        comment=posting.comment,
    )
    return sql.post_movement(movement, max_balance=MAX_BALANCE)
