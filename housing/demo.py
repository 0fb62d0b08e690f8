"""Demo houses, flats, meters and a year of monthly readings (deterministic, idempotent)."""

import random
from datetime import date
from decimal import Decimal

from django.core.management.base import OutputWrapper

from housing.models import Flat, House, MeterReading, Street, WaterMeter
from housing.periods import current_month, previous_month

# (street, house number, flats)
DEMO_HOUSES = [
    ("Первая улица", 1, 10),
    ("Первая улица", 2, 6),
    ("Садовая улица", 5, 8),
]
METERS_INSTALLED_ON = date(2020, 1, 1)
MONTHS_OF_READINGS = 12


def last_months(count: int) -> list[tuple[int, int]]:
    """The `count` months before the current one, oldest first."""
    months, period = [], current_month()
    for _ in range(count):
        period = previous_month(*period)
        months.append(period)
    return months[::-1]


def _build_house(street_name: str, number: int, flats: int, rng: random.Random) -> House:
    street, _ = Street.objects.get_or_create(name=street_name)
    house = House.objects.create(street=street, number=number)
    flat_rows = Flat.objects.bulk_create(
        Flat(house=house, number=n, area=Decimal(rng.randint(28_000, 95_000)) / 1000)
        for n in range(1, flats + 1)
    )
    meters = WaterMeter.objects.bulk_create(
        WaterMeter(
            flat=flat,
            serial=f"DEMO-{street.pk}-{number}-{flat.number}-{k}",
            installed_on=METERS_INSTALLED_ON,
            initial_value=Decimal(rng.randint(0, 300)),
        )
        for flat in flat_rows
        for k in range(1, 1 + (1 if flat.number % 3 == 0 else 2))
    )
    readings = []
    for meter in meters:
        value = meter.initial_value
        for year, month in last_months(MONTHS_OF_READINGS):
            value += Decimal(rng.randint(2_000, 9_000)) / 1000
            readings.append(MeterReading(meter=meter, year=year, month=month, value=value))
    MeterReading.objects.bulk_create(readings)
    return house


def seed(*, stdout: OutputWrapper) -> list[str]:
    rng = random.Random(20240501)
    created = 0
    for street_name, number, flats in DEMO_HOUSES:
        if House.objects.filter(street__name=street_name, number=number).exists():
            continue
        _build_house(street_name, number, flats, rng)
        created += 1
    first, last = last_months(MONTHS_OF_READINGS)[0], last_months(MONTHS_OF_READINGS)[-1]
    return [
        f"housing: {len(DEMO_HOUSES)} demo houses ({created} new), meter readings for "
        f"{first[0]}-{first[1]:02d} .. {last[0]}-{last[1]:02d}: "
        "curl -H 'Authorization: Token <token>' localhost:8000/api/homes/",
    ]
