"""Balances' models, the money ledger: accounts with a cached balance, append-only movements,
services, rates (their code is in accounts/balances/, their admin in accounts/admin/balances.py).

Every change of a balance is one `Movement` row written in the same transaction as the balance
update, so `Account.balance` always equals the sum of its movements (`verify_ledger` checks it).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field

BASE_CURRENCY = "RUB"


class Account(models.Model):
    """A user's money account in roubles; other currencies are conversions on read."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="balance_account",
        verbose_name=_("user"),
    )
    currency = models.CharField(
        max_length=3, default=BASE_CURRENCY, editable=False, verbose_name=_("currency")
    )
    balance = money_field(
        default=Decimal("0.00"),
        editable=False,
        help_text=_("Cached sum of the account's movements, updated in the same transaction."),
        verbose_name=_("balance"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="account_balance_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(currency=BASE_CURRENCY), name="account_currency_is_base"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.currency})"


class Service(models.Model):
    """An item of the catalogue a user may buy from their balance (again and again)."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    price = money_field(verbose_name=_("price"))
    is_active = models.BooleanField(
        default=True,
        help_text=_("Archived services are hidden and cannot be bought."),
        verbose_name=_("active"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="service_price_gt_0")]

    def __str__(self) -> str:
        return f"{self.name} ({self.price})"


class Movement(models.Model):
    """One money operation. Append-only (a database trigger refuses UPDATE and DELETE).

    Money leaves `debit_account` and arrives at `credit_account`: a deposit only credits, a
    withdrawal or purchase only debits, a transfer and a rent payment do both in one row.
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        PURCHASE = "purchase", _("Purchase")
        TRANSFER = "transfer", _("Transfer")
        RENT = "rent", _("Rent payment")

    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    debit_account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="debits",
        verbose_name=_("debit account"),
    )
    credit_account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credits",
        verbose_name=_("credit account"),
    )
    amount = money_field(verbose_name=_("amount"))
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purchases",
        verbose_name=_("service"),
    )
    comment = models.CharField(max_length=500, blank=True, verbose_name=_("comment"))
    created_at = models.DateTimeField(verbose_name=_("created"))

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        indexes = [
            models.Index(fields=["debit_account", "created_at"], name="movement_debit_time"),
            models.Index(fields=["credit_account", "created_at"], name="movement_credit_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="movement_amount_gt_0"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="deposit",
                        debit_account__isnull=True,
                        credit_account__isnull=False,
                        service__isnull=True,
                    )
                    | Q(
                        kind="withdrawal",
                        debit_account__isnull=False,
                        credit_account__isnull=True,
                        service__isnull=True,
                    )
                    | Q(
                        kind="purchase",
                        debit_account__isnull=False,
                        credit_account__isnull=True,
                        service__isnull=False,
                    )
                    | (
                        Q(
                            kind="transfer",
                            debit_account__isnull=False,
                            credit_account__isnull=False,
                            service__isnull=True,
                        )
                        & ~Q(debit_account=F("credit_account"))
                    )
                    # A resident pays a flat's charge to the house's collection account.
                    | (
                        Q(
                            kind="rent",
                            debit_account__isnull=False,
                            credit_account__isnull=False,
                            service__isnull=True,
                        )
                        & ~Q(debit_account=F("credit_account"))
                    )
                ),
                name="movement_shape_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} #{self.pk}"


class ExchangeRate(models.Model):
    """How many roubles one unit of `currency` cost on `date` (from the rates provider)."""

    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    date = models.DateField(verbose_name=_("date"))
    rate = models.DecimalField(
        max_digits=20, decimal_places=8, help_text=_("RUB per 1 unit"), verbose_name=_("rate")
    )
    source = models.CharField(max_length=300, blank=True, verbose_name=_("source"))
    fetched_at = models.DateTimeField(auto_now=True, verbose_name=_("fetched"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="uniq_rate_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate}, {self.date}"
