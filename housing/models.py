"""The housing registry: streets, houses, flats, water meters, their monthly readings, tariffs."""

from django.db import models
from django.db.models import F, Q

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

# Areas and meter readings: 3 decimal places (litres for m3, 0.001 m2 for areas).
QUANTITY_MAX_DIGITS = 12
QUANTITY_DECIMAL_PLACES = 3


class Street(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class House(models.Model):
    # Indexed by the (street, number) unique constraint.
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="houses", db_index=False
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["street__name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["street", "number"], name="house_street_number_uniq"),
            models.CheckConstraint(condition=Q(number__gte=1), name="house_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.street.name}, {self.number}"


class Flat(models.Model):
    # Indexed by the (house, number) unique constraint.
    house = models.ForeignKey(House, on_delete=models.CASCADE, related_name="flats", db_index=False)
    number = models.PositiveIntegerField()
    area = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, help_text="m2"
    )

    class Meta:
        ordering = ["house_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["house", "number"], name="flat_house_number_uniq"),
            models.CheckConstraint(condition=Q(number__gte=1), name="flat_number_positive"),
            models.CheckConstraint(condition=Q(area__gt=0), name="flat_area_positive"),
        ]
        indexes = [
            # A rent run's work list: a house's flats in id order from a cursor, with their
            # area (index-only; a key column rather than INCLUDE, which SQLite lacks), and the
            # house's flat count and highest id when it starts.
            models.Index(fields=["house", "id", "area"], name="flat_house_id_idx"),
        ]

    def __str__(self) -> str:
        return f"flat {self.number} ({self.house_id})"


class WaterMeter(models.Model):
    """A physical meter. Replacing one closes it (`removed_on`) and installs a new one."""

    # Indexed by meter_flat_active_idx (flat, removed_on).
    flat = models.ForeignKey(Flat, on_delete=models.CASCADE, related_name="meters", db_index=False)
    serial = models.CharField(max_length=64, unique=True)
    installed_on = models.DateField(
        null=True, blank=True, help_text="Empty: installed before any month on record."
    )
    removed_on = models.DateField(null=True, blank=True)
    initial_value = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        default=0,
        help_text="Dial value at installation; the first month's consumption counts from it.",
    )

    class Meta:
        ordering = ["flat_id", "installed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True) | Q(removed_on__gte=F("installed_on")),
                name="meter_removed_after_installed",
            ),
            models.CheckConstraint(condition=Q(initial_value__gte=0), name="meter_initial_gte_0"),
        ]
        indexes = [models.Index(fields=["flat", "removed_on"], name="meter_flat_active_idx")]

    def __str__(self) -> str:
        return self.serial


class MeterReading(models.Model):
    """The cumulative dial value of a meter for a month (one per meter per month)."""

    # Indexed by the (meter, year, month) unique constraint.
    meter = models.ForeignKey(
        WaterMeter, on_delete=models.CASCADE, related_name="readings", db_index=False
    )
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    value = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMAL_PLACES, help_text="m3"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meter_id", "year", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "year", "month"], name="reading_meter_month_uniq"
            ),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="reading_month"),
            models.CheckConstraint(condition=Q(year__gte=2000), name="reading_year"),
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.year}-{self.month:02d}: {self.value}"


class Tariff(models.Model):
    """A price valid from a date until the next tariff of the same kind and scope starts."""

    class Kind(models.TextChoices):
        WATER = "water", "Water, per m3"
        UPKEEP = "upkeep", "Upkeep of common property, per m2"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    price = models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    valid_from = models.DateField()
    house = models.ForeignKey(
        House,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tariffs",
        help_text="Empty: a global tariff. A house tariff beats the global one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "house_id", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="tariff_price_gte_0"),
            models.UniqueConstraint(
                fields=["kind", "valid_from"],
                condition=Q(house__isnull=True),
                name="tariff_global_kind_from_uniq",
            ),
            models.UniqueConstraint(
                fields=["kind", "house", "valid_from"],
                condition=Q(house__isnull=False),
                name="tariff_house_kind_from_uniq",
            ),
        ]

    def __str__(self) -> str:
        scope = f"house {self.house_id}" if self.house_id else "global"
        return f"{self.kind} {self.price} from {self.valid_from} ({scope})"
