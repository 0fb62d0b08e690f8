"""Rent calculation runs (the saved progress) and the per-flat charges they produce."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from housing.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, Flat, House


def _quantity(**kwargs: Any) -> "models.DecimalField[Decimal, Decimal]":
    return models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


class RentRun(models.Model):
    """One calculation of a house's rent for a month; its id is the API's `task_id`.

    The task advances `last_flat_id` / `done_flats` in the same transaction as each batch of
    charges, so a killed worker resumes exactly where the last committed batch ended.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("pending")
        IN_PROGRESS = "IN_PROGRESS", _("in progress")
        COMPLETED = "COMPLETED", _("completed")
        FAILED = "FAILED", _("failed")

    ACTIVE = (Status.PENDING, Status.IN_PROGRESS)

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    house = models.ForeignKey(
        House, on_delete=models.CASCADE, related_name="rent_runs", verbose_name=_("house")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    recalculate = models.BooleanField(
        default=False,
        help_text=_("Replaces the month's existing charges when it completes."),
        verbose_name=_("recalculate"),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    total_flats = models.PositiveIntegerField(default=0, verbose_name=_("flats in total"))
    done_flats = models.PositiveIntegerField(default=0, verbose_name=_("flats done"))
    # Work list bounds, fixed when the run starts: flats of the house with id <= max_flat_id,
    # processed in id order; last_flat_id is the cursor.
    max_flat_id = models.BigIntegerField(default=0, verbose_name=_("last flat id of the work list"))
    last_flat_id = models.BigIntegerField(default=0, verbose_name=_("cursor (last flat id)"))
    water_tariff = money_field(null=True, blank=True, verbose_name=_("water tariff"))
    upkeep_tariff = money_field(null=True, blank=True, verbose_name=_("upkeep tariff"))
    result = money_field(
        null=True,
        blank=True,
        help_text=_("Sum of the lines, once completed."),
        verbose_name=_("result"),
    )
    needs_reading_flats = models.PositiveIntegerField(
        default=0, verbose_name=_("flats without a reading")
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started"))
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last heartbeat"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished"))

    class Meta:
        verbose_name = _("rent run")
        verbose_name_plural = _("rent runs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="run_month"),
            models.CheckConstraint(condition=Q(year__gte=2000), name="run_year"),
            # At most one active run per house and month: starts cannot race into two.
            models.UniqueConstraint(
                fields=["house", "year", "month"],
                condition=Q(status__in=["PENDING", "IN_PROGRESS"]),
                name="run_one_active_per_house_month",
            ),
        ]
        indexes = [
            models.Index(fields=["house", "year", "month", "status"], name="run_house_month_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return _("rent of %(house)s, %(period)s") % {
            "house": self.house,
            "period": f"{self.year}-{self.month:02d}",
        }

    @property
    def percent(self) -> float:
        if self.status == self.Status.COMPLETED:
            return 100.0
        if not self.total_flats:
            return 0.0
        return round(min(self.done_flats, self.total_flats) * 100 / self.total_flats, 1)


class LineStatus(models.TextChoices):
    OK = "ok", _("ok")
    NEEDS_READING = "needs_reading", _("needs a meter reading (no water charged)")
    NO_METER = "no_meter", _("no meter installed (no water charged)")


class ChargeFields(models.Model):
    """The columns of one flat's line; shared by published charges and staged lines.

    The batch insert is the hot path, so the table carries only what pays for itself: no
    single-column FK indexes (the composite indexes cover the lookups), and a database FK only
    on `flat`. `house` is the flat's house, copied for per-house queries, and `run` records
    which run wrote the line; Django cascades deletes to both, and checking them per inserted
    row cost about a fifth of the batch time in bench/rent.py."""

    flat = models.ForeignKey(
        Flat, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("flat")
    )
    house = models.ForeignKey(
        House,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("house"),
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    run = models.ForeignKey(
        RentRun,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("run"),
    )
    status = models.CharField(max_length=16, choices=LineStatus.choices, verbose_name=_("status"))
    area = _quantity(verbose_name=_("area"))
    water_consumption = _quantity(verbose_name=_("water consumption"))
    water_tariff = money_field(verbose_name=_("water tariff"))
    upkeep_tariff = money_field(verbose_name=_("upkeep tariff"))
    water_cost = money_field(verbose_name=_("water cost"))
    upkeep_cost = money_field(verbose_name=_("upkeep cost"))
    total = money_field(verbose_name=_("total"))

    class Meta:
        abstract = True


class Charge(ChargeFields):
    """The published rent of a flat for a month: one row per flat and month, ever.

    `paid_amount` is what residents have paid on it from their balances (residents.services);
    a recalculation updates the lines in place and keeps it. A database default, because the
    rent run writes charges in plain SQL."""

    paid_amount = money_field(
        db_default=Decimal("0.00"),
        help_text=_("Paid by residents from their balances."),
        verbose_name=_("paid"),
    )

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["house_id", "year", "month", "flat_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flat", "year", "month"], name="charge_flat_month_uniq"
            ),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="charge_month"),
            models.CheckConstraint(
                condition=Q(water_cost__gte=0, upkeep_cost__gte=0, water_consumption__gte=0),
                name="charge_amounts_gte_0",
            ),
            models.CheckConstraint(condition=Q(paid_amount__gte=0), name="charge_paid_gte_0"),
            # total = water + upkeep, written as |difference| < half a kopeck: the same thing
            # for NUMERIC(14, 2), and it still holds where SQLite compares floats.
            models.CheckConstraint(
                condition=Q(
                    total__gt=F("water_cost") + F("upkeep_cost") - Decimal("0.005"),
                    total__lt=F("water_cost") + F("upkeep_cost") + Decimal("0.005"),
                ),
                name="charge_total_sum",
            ),
        ]
        indexes = [
            models.Index(fields=["house", "year", "month"], name="charge_house_month_idx"),
            models.Index(fields=["run"], name="charge_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.flat}, {self.year}-{self.month:02d}: {self.total}"


class StagedLine(ChargeFields):
    """A recalculation's lines, published into Charge in one transaction when the run ends."""

    class Meta:
        verbose_name = _("staged line")
        verbose_name_plural = _("staged lines")
        constraints = [
            models.UniqueConstraint(fields=["run", "flat"], name="staged_run_flat_uniq"),
        ]

    def __str__(self) -> str:
        return f"staged flat {self.flat_id} run {self.run_id}"
