"""The housing registry: streets, houses, flats, water meters, their monthly readings, tariffs."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field

# Areas and meter readings: 3 decimal places (litres for m3, 0.001 m2 for areas).
QUANTITY_MAX_DIGITS = 12
QUANTITY_DECIMAL_PLACES = 3


class Street(models.Model):
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class House(models.Model):
    # Indexed by the (street, number) unique constraint.
    street = models.ForeignKey(
        Street,
        on_delete=models.PROTECT,
        related_name="houses",
        db_index=False,
        verbose_name=_("street"),
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("house")
        verbose_name_plural = _("houses")
        ordering = ["street__name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["street", "number"], name="house_street_number_uniq"),
            models.CheckConstraint(condition=Q(number__gte=1), name="house_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.street.name} {self.number}"


class Flat(models.Model):
    # Indexed by the (house, number) unique constraint.
    house = models.ForeignKey(
        House,
        on_delete=models.CASCADE,
        related_name="flats",
        db_index=False,
        verbose_name=_("house"),
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    area = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        help_text=_("m2"),
        verbose_name=_("area"),
    )

    class Meta:
        verbose_name = _("flat")
        verbose_name_plural = _("flats")
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
        # "Садовая 5, кв. 12": how an operator names a flat.
        return _("%(house)s, flat %(number)s") % {"house": self.house, "number": self.number}


class WaterMeter(models.Model):
    """A physical meter. Replacing one closes it (`removed_on`) and installs a new one."""

    # Indexed by meter_flat_active_idx (flat, removed_on).
    flat = models.ForeignKey(
        Flat,
        on_delete=models.CASCADE,
        related_name="meters",
        db_index=False,
        verbose_name=_("flat"),
    )
    serial = models.CharField(max_length=64, unique=True, verbose_name=_("serial"))
    installed_on = models.DateField(
        null=True,
        blank=True,
        help_text=_("Empty: installed before any month on record."),
        verbose_name=_("installed on"),
    )
    removed_on = models.DateField(null=True, blank=True, verbose_name=_("removed on"))
    initial_value = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        default=0,
        help_text=_("Dial value at installation; the first month's consumption counts from it."),
        verbose_name=_("initial value"),
    )

    class Meta:
        verbose_name = _("water meter")
        verbose_name_plural = _("water meters")
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
        return f"{self.serial} ({self.flat})"


class MeterReading(models.Model):
    """The cumulative dial value of a meter for a month (one per meter per month)."""

    # Indexed by the (meter, year, month) unique constraint.
    meter = models.ForeignKey(
        WaterMeter,
        on_delete=models.CASCADE,
        related_name="readings",
        db_index=False,
        verbose_name=_("meter"),
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    month = models.PositiveSmallIntegerField(verbose_name=_("month"))
    value = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        help_text=_("m3"),
        verbose_name=_("value"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
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
        return f"{self.meter} {self.year}-{self.month:02d}: {self.value}"


class Tariff(models.Model):
    """A price valid from a date until the next tariff of the same kind and scope starts."""

    class Kind(models.TextChoices):
        WATER = "water", _("Water, per m3")
        UPKEEP = "upkeep", _("Upkeep of common property, per m2")

    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    price = money_field(verbose_name=_("price"))
    valid_from = models.DateField(verbose_name=_("valid from"))
    house = models.ForeignKey(
        House,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tariffs",
        help_text=_("Empty: a global tariff. A house tariff beats the global one."),
        verbose_name=_("house"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
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
        scope = str(self.house) if self.house_id else _("global")
        return f"{self.get_kind_display()} {self.price}, {self.valid_from} ({scope})"
