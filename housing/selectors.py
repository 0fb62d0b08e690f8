"""Reads of the housing registry. Every list here costs a fixed number of queries."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from housing.models import Flat, House, MeterReading, Tariff, WaterMeter
from housing.periods import month_start


def flats_with_meter_counts() -> QuerySet[Flat]:
    """Flats annotated with `meters_count`: meters currently installed (not removed)."""
    return Flat.objects.annotate(
        meters_count=Count("meters", filter=Q(meters__removed_on__isnull=True))
    ).order_by("number")


def houses_with_flats() -> QuerySet[House]:
    """Houses with their street and flats (with meter counts) in three queries in total."""
    return House.objects.select_related("street").prefetch_related(
        Prefetch("flats", queryset=flats_with_meter_counts())
    )


def get_house_by_address(*, number: int, street_name: str) -> House:
    house = houses_with_flats().filter(number=number, street__name=street_name).first()
    if house is None:
        raise Http404(
            _("No house %(number)s on street %(street)r.")
            % {"number": number, "street": street_name}
        )
    return house


def find_house(*, number: int, street_name: str | None = None) -> House:
    """A house by number, and by street when given (house numbers repeat across streets)."""
    houses = House.objects.select_related("street").filter(number=number)
    if street_name:
        houses = houses.filter(street__name=street_name)
    found = list(houses[:2])
    if not found:
        if street_name:
            raise Http404(
                _("No house %(number)s on street %(street)r.")
                % {"number": number, "street": street_name}
            )
        raise Http404(_("No house %(number)s.") % {"number": number})
    if len(found) > 1:
        raise ValidationError(
            {
                "street_name": [
                    _("Several houses have number %(number)s; give street_name.")
                    % {"number": number}
                ]
            }
        )
    return found[0]


def flat_list() -> QuerySet[Flat]:
    return flats_with_meter_counts().select_related("house__street").order_by("house_id", "number")


def meter_list() -> QuerySet[WaterMeter]:
    return WaterMeter.objects.select_related("flat__house__street").order_by("id")


def reading_list() -> QuerySet[MeterReading]:
    return MeterReading.objects.select_related("meter__flat__house__street").order_by(
        "meter__flat__house_id", "meter__flat__number", "meter_id", "year", "month"
    )


def readings_matching(
    *,
    house: House | None = None,
    flat_numbers: list[int] | None = None,
    year: int | None = None,
    month: int | None = None,
) -> QuerySet[MeterReading]:
    """Readings filtered the way seed 000's `water-checkers/details` filters them."""
    readings = reading_list()
    if house is not None:
        readings = readings.filter(meter__flat__house=house)
    if flat_numbers:
        readings = readings.filter(meter__flat__number__in=flat_numbers)
    if year is not None:
        readings = readings.filter(year=year)
    if month is not None:
        readings = readings.filter(month=month)
    return readings


def tariff_list() -> QuerySet[Tariff]:
    return Tariff.objects.select_related("house__street").order_by(
        "kind", "house_id", "-valid_from"
    )


# Per kind the latest tariff started by the month's first day, a house's own one first; and the
# house's flat count and highest flat id. Plain SQL: the rent task runs it once per house, and
# composing it with the ORM cost more CPU than the query itself.
_FACTS_SQL = """
SELECT
    (SELECT t.price FROM {tariff} t
     WHERE t.kind = '{water}' AND (t.house_id = {house} OR t.house_id IS NULL)
       AND t.valid_from <= {first_day}
     ORDER BY t.house_id IS NULL, t.valid_from DESC LIMIT 1) AS water_price,
    (SELECT t.price FROM {tariff} t
     WHERE t.kind = '{upkeep}' AND (t.house_id = {house} OR t.house_id IS NULL)
       AND t.valid_from <= {first_day}
     ORDER BY t.house_id IS NULL, t.valid_from DESC LIMIT 1) AS upkeep_price,
    flats.n AS flats_count,
    flats.max_id AS max_flat_id
-- count and max in one aggregate on purpose: a lone max(id) may be planned as a backward walk
-- of the primary key filtered on house_id, which reads every flat of the later houses.
FROM (SELECT count(*) AS n, max(f.id) AS max_id FROM {flat} f WHERE f.house_id = {house}) flats
"""


def house_month_facts_sql(*, house: str = "%s", first_day: str = "%s") -> str:
    """The facts query of house_month_facts() for a house id and a day given as SQL (by
    default three placeholders: house, day, house), to run inside another statement; its
    columns are water_price, upkeep_price, flats_count, max_flat_id (see month_facts())."""
    return _FACTS_SQL.format(
        tariff=Tariff._meta.db_table,
        flat=Flat._meta.db_table,
        water=Tariff.Kind.WATER.value,
        upkeep=Tariff.Kind.UPKEEP.value,
        house=house,
        first_day=first_day,
    )


def month_facts(*, water_price, upkeep_price, flats_count, max_flat_id) -> dict:
    """The row of house_month_facts_sql() as house_month_facts() returns it."""
    decimal = Tariff._meta.get_field("price")
    return {
        Tariff.Kind.WATER: decimal.to_python(water_price) if water_price is not None else None,
        Tariff.Kind.UPKEEP: decimal.to_python(upkeep_price) if upkeep_price is not None else None,
        "flats_count": flats_count or 0,
        "max_flat_id": max_flat_id or 0,
    }


def house_month_facts(*, house_id: int, year: int, month: int) -> dict:
    """What a rent run fixes when it starts, in one query: the water and upkeep prices in
    force on the month's first day (a house's own tariff beats the global one; None when
    there is none), the house's flat count and its highest flat id."""
    first_day = month_start(year, month)
    with connection.cursor() as cursor:
        cursor.execute(
            house_month_facts_sql(), [house_id, first_day, house_id, first_day, house_id]
        )
        water_price, upkeep_price, flats, max_flat_id = cursor.fetchone()
    return month_facts(
        water_price=water_price,
        upkeep_price=upkeep_price,
        flats_count=flats,
        max_flat_id=max_flat_id,
    )
