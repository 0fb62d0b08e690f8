"""Reads of the housing registry. Every list here costs a fixed number of queries."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
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
        raise Http404(f"No house {number} on street {street_name!r}.")
    return house


def find_house(*, number: int, street_name: str | None = None) -> House:
    """A house by number, and by street when given (house numbers repeat across streets)."""
    houses = House.objects.select_related("street").filter(number=number)
    if street_name:
        houses = houses.filter(street__name=street_name)
    found = list(houses[:2])
    if not found:
        suffix = f" on street {street_name!r}" if street_name else ""
        raise Http404(f"No house {number}{suffix}.")
    if len(found) > 1:
        raise ValidationError(
            {"street_name": [f"Several houses have number {number}; give street_name."]}
        )
    return found[0]


def street_list() -> QuerySet[Street]:
    return Street.objects.annotate(houses_count=Count("houses")).order_by("name")


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


def _price_in_force(kind: str, first_day: date) -> Subquery:
    # Nulls last on house_id puts the house's own tariffs before the global ones.
    return Subquery(
        Tariff.objects.filter(
            Q(house_id=OuterRef("pk")) | Q(house__isnull=True), kind=kind, valid_from__lte=first_day
        )
        .order_by(F("house_id").asc(nulls_last=True), "-valid_from")
        .values("price")[:1]
    )


def house_month_facts(*, house_id: int, year: int, month: int) -> dict:
    """What a rent run fixes when it starts, in one query: per kind the price in force on the
    month's first day (a house's own tariff beats the global one; None when there is none),
    and the house's flat count and highest flat id."""
    first_day = month_start(year, month)
    flats = Flat.objects.filter(house_id=OuterRef("pk")).order_by().values("house_id")
    facts = (
        House.objects.filter(pk=house_id)
        .annotate(
            **{kind: _price_in_force(kind, first_day) for kind in Tariff.Kind.values},
            flats_count=Subquery(flats.annotate(n=Count("id")).values("n")),
            max_flat_id=Subquery(flats.annotate(top=Max("id")).values("top")),
        )
        .values(*Tariff.Kind.values, "flats_count", "max_flat_id")
        .first()
    )
    facts = facts or dict.fromkeys([*Tariff.Kind.values, "flats_count", "max_flat_id"])
    facts["flats_count"] = facts["flats_count"] or 0
    facts["max_flat_id"] = facts["max_flat_id"] or 0
    return facts
