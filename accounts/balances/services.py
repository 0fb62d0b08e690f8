"""Money writes: opening accounts, deposits, withdrawals, purchases, transfers, rates.

Every balance change is one `posting.Posting`: see `accounts/balances/posting.py` for how it
locks, checks and writes.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.balances import rates as rates_provider
from accounts.balances.errors import (
    AccountBusy,
    InvalidAmount,
    NoAccountYet,
    NoSuchService,
    SameAccount,
    TransferToItself,
)
from accounts.balances.posting import Posting, post
from accounts.models import Account, ExchangeRate, Movement, Service
from core.money import round_money

logger = logging.getLogger(__name__)

__all__ = [
    "AccountBusy",
    "archive_service",
    "check_amount",
    "deposit",
    "open_account",
    "pay_rent",
    "purchase",
    "refresh_exchange_rates",
    "transfer",
    "withdraw",
]


def open_account(*, user) -> tuple[Account, bool]:
    """Return the user's rouble account, creating it on first call; `(account, created)`."""
    return Account.objects.get_or_create(user=user)


def check_amount(amount: object) -> Decimal:
    """Refuse amounts that are not positive, have more than 2 decimals or exceed the maximum."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount(_("Must be a decimal number."), field="amount")
    if amount != round_money(amount):
        raise InvalidAmount(_("At most 2 decimal places."), field="amount")
    if amount <= 0:
        raise InvalidAmount(_("Must be greater than 0."), field="amount")
    if amount > settings.BALANCE_MAX_AMOUNT:
        raise InvalidAmount(
            _("Must be at most %(max)s.") % {"max": settings.BALANCE_MAX_AMOUNT}, field="amount"
        )
    return round_money(amount)


def deposit(*, user, account_id: int, amount: Decimal, comment: str = "") -> Movement:
    """Credit `amount` to the user's own account (404 if it is not theirs)."""
    return post(
        Posting(
            user_id=user.pk,
            kind=Movement.Kind.DEPOSIT,
            amount=check_amount(amount),
            own_field="account",
            own_id=account_id,
            credit_id=account_id,
            comment=comment,
        )
    )


def withdraw(*, user, account_id: int, amount: Decimal, comment: str = "") -> Movement:
    """Debit `amount` from the user's own account; 402 if the balance is too low."""
    return post(
        Posting(
            user_id=user.pk,
            kind=Movement.Kind.WITHDRAWAL,
            amount=check_amount(amount),
            own_field="account",
            own_id=account_id,
            debit_id=account_id,
            comment=comment,
        )
    )


def purchase(*, user, service_id: int, comment: str = "") -> Movement:
    """Buy an active service at its current price from the user's account (402 if short)."""
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise NoSuchService()
    account_id = Account.objects.filter(user=user).values_list("pk", flat=True).first()
    if account_id is None:
        raise NoAccountYet()
    movement = post(
        Posting(
            user_id=user.pk,
            kind=Movement.Kind.PURCHASE,
            amount=check_amount(service.price),
            own_field="account",
            own_id=account_id,
            debit_id=account_id,
            service_id=service.pk,
            comment=comment,
        )
    )
    movement.service = service
    return movement


def transfer(
    *, user, from_account_id: int, to_account_id: int, amount: Decimal, comment: str = ""
) -> Movement:
    """Move `amount` from the user's account to any other account (402 if short)."""
    if from_account_id == to_account_id:
        raise TransferToItself(field="to_account")
    return post(
        Posting(
            user_id=user.pk,
            kind=Movement.Kind.TRANSFER,
            amount=check_amount(amount),
            own_field="from_account",
            own_id=from_account_id,
            debit_id=from_account_id,
            credit_id=to_account_id,
            other_field="to_account",
            other_id=to_account_id,
            comment=comment,
        )
    )


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


def pay_rent(
    *, user, from_account_id: int, to_account_id: int, amount: Decimal, comment: str = ""
) -> Movement:
    """Move `amount` from the user's account to a collection account as a rent payment (402
    if short). The caller (residents.services.pay_charge) holds the charge's row lock: charge
    first, then the accounts in id order, the one lock order of every rent payment."""
    if from_account_id == to_account_id:
        raise SameAccount()
    return post(
        Posting(
            user_id=user.pk,
            kind=Movement.Kind.RENT,
            amount=check_amount(amount),
            own_field="account",
            own_id=from_account_id,
            debit_id=from_account_id,
            credit_id=to_account_id,
            other_field="collection_account",
            other_id=to_account_id,
            comment=comment,
        )
    )
