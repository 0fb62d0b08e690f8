"""Reads of the housing registry. Every list here costs a fixed number of queries."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from housing.errors import AmbiguousHouse, NoSuchHouse
from housing.models import Flat, House, MeterReading, Tariff, WaterMeter


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
        raise NoSuchHouse(
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
            raise NoSuchHouse(
                _("No house %(number)s on street %(street)r.")
                % {"number": number, "street": street_name}
            )
        raise NoSuchHouse(_("No house %(number)s.") % {"number": number})
    if len(found) > 1:
        raise AmbiguousHouse(
            _("Several houses have number %(number)s; give street_name.") % {"number": number},
            field="street_name",
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
    """Readings filtered the way the compatible `water-checkers/details` filters them."""
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
