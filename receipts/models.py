"""Receipts: what points of sale post (producer side) and what the consumer side derives.

Producer side: `Receipt` keeps every accepted receipt once (unique `transaction_id`) with its
items as posted; `DeadLetter` keeps what was refused. Consumer side: `Place`, `Category`,
`Purchase` and `PurchaseCategory` are the analytics inputs the stream consumer registers, and
`PlaceHour` / `PlaceCategoryHour` are the hourly rollups the analytics endpoints read.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field


def without_nul(value: Any) -> Any:
    """`value` with every U+0000 written as the visible text `\\u0000` (keys too).

    PostgreSQL text and jsonb cannot hold U+0000; a refused receipt must still be kept.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


class NulSafeJSONField(models.JSONField):
    """A JSONField that stores what it is given even when a string holds U+0000."""

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(without_nul(value))


class NulSafeCharField(models.CharField):
    def get_prep_value(self, value: Any) -> Any:
        return without_nul(super().get_prep_value(value))


class Channel(models.TextChoices):
    CHECKS = "checks", "POST /api/checks/"
    BULK = "bulk", "POST /api/checks/bulk/"
    ADD_CHECKS = "add_checks", "POST /api/add_checks/"
    STREAM = "stream", _("stream consumer")
    DEMO = "demo", _("demo data")


class Receipt(models.Model):
    """A receipt as a point of sale posted it, accepted exactly once per `transaction_id`."""

    transaction_id = models.CharField(max_length=100, unique=True, verbose_name=_("transaction id"))
    timestamp = models.DateTimeField(
        help_text=_("When the purchase happened (the receipt's own)."), verbose_name=_("timestamp")
    )
    place_id = models.CharField(
        max_length=64, help_text=_("The point of sale's own place id."), verbose_name=_("place id")
    )
    place_name = models.CharField(max_length=255, verbose_name=_("place name"))
    payment_method = models.CharField(max_length=32, verbose_name=_("payment method"))
    total_amount = money_field(
        help_text=_("Sum of quantity x price; tips not included."), verbose_name=_("total amount")
    )
    nds_amount = money_field(
        help_text=_("VAT included in total_amount."), verbose_name=_("VAT amount")
    )
    tips_amount = money_field(default=0, verbose_name=_("tips"))
    items = models.JSONField(
        help_text=_("[{product_id, quantity, price, category}] as posted."), verbose_name=_("items")
    )
    fingerprint = models.CharField(
        max_length=64,
        help_text=_("sha256 of the canonical content: tells a retry from a clash."),
        verbose_name=_("fingerprint"),
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("posted by"),
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("received"))

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-received_at", "-id"]
        permissions = [("post_receipts", "Can post receipts (point of sale)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(nds_amount__gte=0) & Q(tips_amount__gte=0),
                name="receipt_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.transaction_id


class DeadLetter(models.Model):
    """A receipt or stream event that was refused, kept for an operator to look at."""

    class Reason(models.TextChoices):
        INVALID = "invalid", _("failed validation")
        CONFLICT = "conflict", _("transaction_id already used with other content")
        MALFORMED = "malformed", _("not a receipt at all (bad JSON, wrong shape)")
        FORBIDDEN = "forbidden", _("for a place not assigned to the point of sale")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    reason = models.CharField(max_length=16, choices=Reason.choices, verbose_name=_("reason"))
    transaction_id = NulSafeCharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("transaction id")
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("caller"),
    )
    errors = NulSafeJSONField(default=dict, verbose_name=_("errors"))
    payload = NulSafeJSONField(
        null=True,
        blank=True,
        help_text=_("What was received, as is (U+0000 written as \\u0000)."),
        verbose_name=_("payload"),
    )

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.transaction_id or '-'}"


class PointOfSalePlace(models.Model):
    """A place an operator assigned to a point-of-sale user: it may post receipts for it.

    By `place_id` code rather than a link to `Place`, which the consumer registers only once
    the first receipt of the place is counted: an operator assigns a new shop before that.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receipt_places"
    )
    place_code = models.CharField(max_length=64, help_text="`place_id` in receipts.")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "place_code"]
        verbose_name = "point-of-sale place"
        constraints = [
            models.UniqueConstraint(fields=["user", "place_code"], name="uniq_pos_place"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.place_code}"


class Place(models.Model):
    """A place of purchase, registered by the consumer from the receipts it sees."""

    code = models.CharField(
        max_length=64, unique=True, help_text=_("`place_id` in receipts."), verbose_name=_("code")
    )
    name = models.CharField(max_length=255, verbose_name=_("name"))
    named_at = models.DateTimeField(
        help_text=_("Timestamp of the receipt the name comes from: older receipts never rename."),
        verbose_name=_("named at"),
    )
    first_seen_at = models.DateTimeField(auto_now_add=True, verbose_name=_("first seen"))

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Purchase(models.Model):
    """The consumer's record of one receipt: counted once, whatever the stream redelivers."""

    transaction_id = models.CharField(max_length=100, unique=True, verbose_name=_("transaction id"))
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("place")
    )
    timestamp = models.DateTimeField(verbose_name=_("timestamp"))
    hour = models.DateTimeField(
        help_text=_("Start of the receipt's hour in the configured zone."), verbose_name=_("hour")
    )
    total_amount = money_field(verbose_name=_("total amount"))
    nds_amount = money_field(verbose_name=_("VAT amount"))
    tips_amount = money_field(verbose_name=_("tips"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    counted_at = models.DateTimeField(
        help_text=_("When the consumer counted it."), verbose_name=_("counted")
    )

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [models.Index(fields=["hour", "place"], name="purchase_hour_place")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(nds_amount__gte=0) & Q(tips_amount__gte=0),
                name="purchase_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.transaction_id


class PurchaseCategory(models.Model):
    """What one purchase spent in one category; place and hour copied for a join-free rollup."""

    purchase = models.ForeignKey(
        Purchase, on_delete=models.CASCADE, related_name="categories", verbose_name=_("purchase")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("category")
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("place")
    )
    hour = models.DateTimeField(verbose_name=_("hour"))
    spent = money_field(verbose_name=_("spent"))

    class Meta:
        verbose_name = _("purchase category")
        verbose_name_plural = _("purchase categories")
        indexes = [models.Index(fields=["hour", "place"], name="purchasecat_hour_place")]
        constraints = [
            models.UniqueConstraint(fields=["purchase", "category"], name="uniq_purchase_category"),
            models.CheckConstraint(
                condition=Q(spent__gte=0), name="purchasecat_spent_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_id}/{self.category_id}: {self.spent}"


class PlaceHour(models.Model):
    """Hourly rollup per place: purchases, their total, VAT and tips in that hour."""

    place = models.ForeignKey(
        Place, on_delete=models.CASCADE, related_name="hours", verbose_name=_("place")
    )
    hour = models.DateTimeField(verbose_name=_("hour"))
    purchases = models.PositiveIntegerField(verbose_name=_("purchases"))
    total_amount = money_field(verbose_name=_("total amount"))
    total_nds = money_field(verbose_name=_("VAT total"))
    total_tips = money_field(verbose_name=_("tips total"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("place hour")
        verbose_name_plural = _("place hours")
        ordering = ["place", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["place", "hour"], name="uniq_place_hour"),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(total_nds__gte=0) & Q(total_tips__gte=0),
                name="placehour_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place_id} @ {self.hour:%Y-%m-%d %H:00}"


class PlaceCategoryHour(models.Model):
    """Hourly rollup per place and category: receipts holding the category and their spend."""

    place = models.ForeignKey(
        Place, on_delete=models.CASCADE, related_name="category_hours", verbose_name=_("place")
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )
    hour = models.DateTimeField(verbose_name=_("hour"))
    purchases = models.PositiveIntegerField(verbose_name=_("purchases"))
    total_spent = money_field(verbose_name=_("total spent"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("place category hour")
        verbose_name_plural = _("place category hours")
        constraints = [
            models.UniqueConstraint(
                fields=["place", "category", "hour"], name="uniq_place_category_hour"
            ),
            models.CheckConstraint(
                condition=Q(total_spent__gte=0), name="placecategoryhour_spent_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place_id}/{self.category_id} @ {self.hour:%Y-%m-%d %H:00}"
