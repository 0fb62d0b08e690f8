"""Rent calculation runs (the saved progress) and the per-flat charges they produce."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from housing.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS, Flat, House


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def _quantity(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


class RentRun(models.Model):
    """One calculation of a house's rent for a month; its id is the API's `task_id`.

    The task advances `last_flat_id` / `done_flats` in the same transaction as each batch of
    charges, so a killed worker resumes exactly where the last committed batch ended.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING"
        IN_PROGRESS = "IN_PROGRESS"
        COMPLETED = "COMPLETED"
        FAILED = "FAILED"

    ACTIVE = (Status.PENDING, Status.IN_PROGRESS)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="rent_runs")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    recalculate = models.BooleanField(
        default=False, help_text="Replaces the month's existing charges when it completes."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total_flats = models.PositiveIntegerField(default=0)
    done_flats = models.PositiveIntegerField(default=0)
    # Work list bounds, fixed when the run starts: flats of the house with id <= max_flat_id,
    # processed in id order; last_flat_id is the cursor.
    max_flat_id = models.BigIntegerField(default=0)
    last_flat_id = models.BigIntegerField(default=0)
    water_tariff = _money(null=True, blank=True)
    upkeep_tariff = _money(null=True, blank=True)
    result = _money(null=True, blank=True, help_text="Sum of the lines, once completed.")
    needs_reading_flats = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        return f"rent {self.house_id} {self.year}-{self.month:02d} {self.status}"

    @property
    def percent(self) -> float:
        if self.status == self.Status.COMPLETED:
            return 100.0
        if not self.total_flats:
            return 0.0
        return round(min(self.done_flats, self.total_flats) * 100 / self.total_flats, 1)


class LineStatus(models.TextChoices):
    OK = "ok"
    NEEDS_READING = "needs_reading", "needs a meter reading (no water charged)"
    NO_METER = "no_meter", "no meter installed (no water charged)"


class ChargeFields(models.Model):
    """The columns of one flat's line; shared by published charges and staged lines.

    The batch insert is the hot path, so the table carries only what pays for itself: no
    single-column FK indexes (the composite indexes cover the lookups), and a database FK only
    on `flat`. `house` is the flat's house, copied for per-house queries, and `run` records
    which run wrote the line; Django cascades deletes to both, and checking them per inserted
    row cost about a fifth of the batch time in bench/rent.py."""

    flat = models.ForeignKey(Flat, on_delete=models.CASCADE, related_name="+", db_index=False)
    house = models.ForeignKey(
        House, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    run = models.ForeignKey(
        RentRun, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    status = models.CharField(max_length=16, choices=LineStatus.choices)
    area = _quantity()
    water_consumption = _quantity()
    water_tariff = _money()
    upkeep_tariff = _money()
    water_cost = _money()
    upkeep_cost = _money()
    total = _money()

    class Meta:
        abstract = True


class Charge(ChargeFields):
    """The published rent of a flat for a month: one row per flat and month, ever."""

    class Meta:
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
        return f"charge flat {self.flat_id} {self.year}-{self.month:02d}: {self.total}"


class StagedLine(ChargeFields):
    """A recalculation's lines, published into Charge in one transaction when the run ends."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "flat"], name="staged_run_flat_uniq"),
        ]

    def __str__(self) -> str:
        return f"staged flat {self.flat_id} run {self.run_id}"
