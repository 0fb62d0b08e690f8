"""Residents of flats: who lives where, one-time flat codes, who submitted which reading, the
payments of charges from balances, the collection accounts, and the notices sent to residents.
"""

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import Charge
from core.money import money_field

# Upper-case letters and digits without look-alikes (0/O, 1/I): read aloud or typed on a phone.
FLAT_CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "01IO")
FLAT_CODE_LENGTH = 8


def new_flat_code() -> str:
    return "".join(secrets.choice(FLAT_CODE_ALPHABET) for _ in range(FLAT_CODE_LENGTH))


class Residency(models.Model):
    """A user lives in a flat: they see its meters and charges and pay its rent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="residencies",
        verbose_name=_("user"),
    )
    flat = models.ForeignKey(
        "housing.Flat",
        on_delete=models.CASCADE,
        related_name="residencies",
        db_index=False,  # the (flat, user) unique index covers it
        verbose_name=_("flat"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("since"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )

    class Meta:
        verbose_name = _("residency")
        verbose_name_plural = _("residencies")
        ordering = ["flat_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["flat", "user"], name="residency_flat_user_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.flat}"


class FlatCode(models.Model):
    """A one-time code an operator hands out; the signed-in user who redeems it before it
    expires becomes a resident of the flat."""

    code = models.CharField(
        max_length=16, unique=True, default=new_flat_code, verbose_name=_("code")
    )
    flat = models.ForeignKey(
        "housing.Flat", on_delete=models.CASCADE, related_name="+", verbose_name=_("flat")
    )
    expires_at = models.DateTimeField(verbose_name=_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("redeemed by"),
    )
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("redeemed"))

    class Meta:
        verbose_name = _("flat code")
        verbose_name_plural = _("flat codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} ({self.flat})"


class ReadingSubmission(models.Model):
    """Which resident submitted a meter reading (readings without one were entered by
    operators)."""

    reading = models.OneToOneField(
        "housing.MeterReading",
        on_delete=models.CASCADE,
        related_name="submission",
        verbose_name=_("reading"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(auto_now=True, verbose_name=_("submitted"))

    class Meta:
        verbose_name = _("reading submission")
        verbose_name_plural = _("reading submissions")

    def __str__(self) -> str:
        return f"{self.reading_id} by {self.user_id}"


class CollectionAccount(models.Model):
    """The account a house's rent is paid to (else the global RENT_COLLECTION_ACCOUNT_ID)."""

    house = models.OneToOneField(
        "housing.House",
        on_delete=models.CASCADE,
        related_name="collection_account",
        verbose_name=_("house"),
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )

    class Meta:
        verbose_name = _("collection account")
        verbose_name_plural = _("collection accounts")

    def __str__(self) -> str:
        return f"{self.house}: {self.account}"


class ChargePayment(models.Model):
    """One payment of a charge from a resident's balance: the ledger movement it made.
    Flat and month are copied so that history outlives the charge row."""

    charge = models.ForeignKey(
        "billing.Charge",
        on_delete=models.SET_NULL,
        null=True,
        related_name="payments",
        verbose_name=_("charge"),
    )
    flat = models.ForeignKey(
        "housing.Flat", on_delete=models.CASCADE, related_name="+", verbose_name=_("flat")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("paid by"),
    )
    movement = models.OneToOneField(
        "accounts.Movement",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("movement"),
    )
    amount = money_field(verbose_name=_("amount"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("paid"))

    class Meta:
        verbose_name = _("charge payment")
        verbose_name_plural = _("charge payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_payment_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.flat} {self.year}-{self.month:02d}: {self.amount}"


class Notification(models.Model):
    """One notice to one resident. The unique key (user, flat, month, kind, version) makes
    queueing idempotent: a resumed or repeated queueing adds nothing; `version` is the rent
    run's id for rent notices, so a recalculation's correction is a new row."""

    class Kind(models.TextChoices):
        RENT = "rent", _("rent due")
        CORRECTION = "correction", _("rent corrected")
        REMINDER = "reminder", _("readings reminder")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("e-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique key starts with it
        verbose_name=_("user"),
    )
    flat = models.ForeignKey(
        "housing.Flat", on_delete=models.CASCADE, related_name="+", verbose_name=_("flat")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    version = models.CharField(max_length=40, blank=True, verbose_name=_("version"))
    channel = models.CharField(max_length=5, choices=Channel.choices, verbose_name=_("channel"))
    address = models.CharField(max_length=254, verbose_name=_("address"))
    amount = money_field(
        null=True,
        blank=True,
        verbose_name=_("amount"),
    )
    text = models.TextField(verbose_name=_("text"))
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    error = models.CharField(max_length=500, blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "flat", "year", "month", "kind", "version"],
                name="notification_once",
            ),
        ]
        indexes = [
            # A run's notices (version = run id): the resume cursor and the counts.
            models.Index(fields=["version", "flat"], name="notification_version_idx"),
            # The sender's queue: pending notices in id order.
            models.Index(
                fields=["id"], condition=Q(status="pending"), name="notification_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.address}"


class RentPayment(Charge):
    """Charges seen as payments (the admin's payments overview); no table of its own."""

    class Meta:
        proxy = True
        verbose_name = _("rent payment")
        verbose_name_plural = _("payments overview")
