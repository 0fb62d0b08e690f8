"""Money reads: a user's accounts (in any currency), movements, history, ledger checks."""

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.balances import sql
from accounts.balances.currencies import ISO_4217_CODES
from accounts.balances.errors import RateUnavailable, UnknownCurrency
from accounts.models import Account, ExchangeRate, Movement, Service
from accounts.models.balances import BASE_CURRENCY
from core.money import round_money

HISTORY_ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
}


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal  # roubles per one unit
    date: dt.date


def accounts_of(*, user) -> QuerySet[Account]:
    return Account.objects.filter(user=user).order_by("id")


def account_ids_of(*, user) -> list[int]:
    return list(Account.objects.filter(user=user).values_list("id", flat=True))


def latest_rate(*, currency: str) -> Rate:
    """The newest known rate of `currency` (RUB is 1 today).

    Unknown currency codes are a 400; a real currency we hold no rate for is a 503.
    """
    code = currency.strip().upper()
    if code == BASE_CURRENCY:
        return Rate(BASE_CURRENCY, Decimal("1"), timezone.localdate())
    row = (
        ExchangeRate.objects.filter(currency=code, date__lte=timezone.localdate())
        .order_by("-date")
        .values_list("rate", "date")
        .first()
    )
    if row is None:
        if code not in ISO_4217_CODES and not ExchangeRate.objects.filter(currency=code).exists():
            raise UnknownCurrency(
                _("Unknown currency code %(code)r (ISO 4217 expected).") % {"code": currency},
                field="currency",
            )
        raise RateUnavailable(
            _("No exchange rate for %(code)s yet; try again after the rates refresh.")
            % {"code": code}
        )
    return Rate(code, row[0], row[1])


@dataclass(frozen=True)
class RateHistory:
    """Every stored rate of one currency, to convert each movement at the rate of its day."""

    currency: str
    dates: tuple[dt.date, ...]
    rates: tuple[Decimal, ...]

    def on(self, day: dt.date) -> Rate:
        """The rate in force on `day`; before the first stored rate, the oldest one."""
        if self.currency == BASE_CURRENCY:
            return Rate(BASE_CURRENCY, Decimal("1"), day)
        index = max(bisect_right(self.dates, day) - 1, 0)
        return Rate(self.currency, self.rates[index], self.dates[index])


def rate_history(*, currency: str) -> RateHistory:
    """All rates of `currency` up to today (same 400/503 refusals as `latest_rate`)."""
    code = latest_rate(currency=currency).currency
    if code == BASE_CURRENCY:
        return RateHistory(BASE_CURRENCY, (), ())
    rows = list(
        ExchangeRate.objects.filter(currency=code, date__lte=timezone.localdate())
        .order_by("date")
        .values_list("date", "rate")
    )
    return RateHistory(code, tuple(r[0] for r in rows), tuple(r[1] for r in rows))


def convert(*, amount: Decimal, rate: Rate) -> Decimal:
    """Roubles to the rate's currency, rounded half-up to 2 places."""
    return round_money(amount / rate.rate)


def services_catalogue(*, include_archived: bool = False) -> QuerySet[Service]:
    services = Service.objects.order_by("id")
    return services if include_archived else services.filter(is_active=True)


def deposits_of(*, user) -> QuerySet[Movement]:
    return _movements(Q(kind=Movement.Kind.DEPOSIT, credit_account__user=user))


def withdrawals_of(*, user) -> QuerySet[Movement]:
    return _movements(Q(kind=Movement.Kind.WITHDRAWAL, debit_account__user=user))


def purchases_of(*, user) -> QuerySet[Movement]:
    return _movements(Q(kind=Movement.Kind.PURCHASE, debit_account__user=user)).select_related(
        "service"
    )


def outgoing_transfers_of(*, user) -> QuerySet[Movement]:
    return _movements(Q(kind=Movement.Kind.TRANSFER, debit_account__user=user))


def incoming_transfers_of(*, user) -> QuerySet[Movement]:
    return _movements(Q(kind=Movement.Kind.TRANSFER, credit_account__user=user))


def _movements(condition: Q) -> QuerySet[Movement]:
    return Movement.objects.filter(condition).order_by("-created_at", "-id")


def history_of(*, user, ordering: str = "-created_at", kind: str | None = None) -> QuerySet:
    """All movements touching the user's accounts, with `direction` "in" or "out".

    Orderings end with the id so that pages never repeat or skip a row.
    """
    ids = account_ids_of(user=user)
    movements = Movement.objects.filter(
        Q(debit_account_id__in=ids) | Q(credit_account_id__in=ids)
    ).annotate(
        direction=Case(
            When(debit_account_id__in=ids, then=Value("out")),
            default=Value("in"),
            output_field=CharField(),
        ),
        account_id=Case(
            When(debit_account_id__in=ids, then=F("debit_account_id")),
            default=F("credit_account_id"),
        ),
        counterpart_id=Case(
            When(debit_account_id__in=ids, then=F("credit_account_id")),
            default=F("debit_account_id"),
        ),
    )
    if kind:
        movements = movements.filter(kind=kind)
    return movements.select_related("service").order_by(*HISTORY_ORDERINGS[ordering])


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    balance: Decimal
    ledger_sum: Decimal


def ledger_discrepancies() -> list[Discrepancy]:
    """Accounts whose cached balance differs from the sum of their movements."""
    return [
        Discrepancy(account_id, balance, ledger_sum)
        for account_id, balance, ledger_sum in sql.balances_against_ledger()
        if balance != ledger_sum
    ]
