from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import factory

from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Street {n}")


class HouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = House

    street = factory.SubFactory(StreetFactory)
    number = factory.Sequence(lambda n: n + 1)


class FlatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flat

    house = factory.SubFactory(HouseFactory)
    number = factory.Sequence(lambda n: n + 1)
    area = Decimal("50.000")


class WaterMeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaterMeter

    flat = factory.SubFactory(FlatFactory)
    serial = factory.Sequence(lambda n: f"SN-{n:06d}")
    installed_on = date(2020, 1, 1)
    initial_value = Decimal(0)


class MeterReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeterReading

    meter = factory.SubFactory(WaterMeterFactory)
    year = 2024
    month = 1
    value = Decimal("10.000")


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff

    kind = Tariff.Kind.WATER
    price = Decimal("40.00")
    valid_from = date(2020, 1, 1)
    house = None


def global_tariffs(water: str = "40.00", upkeep: str = "20.00") -> None:
    TariffFactory(kind=Tariff.Kind.WATER, price=Decimal(water))
    TariffFactory(kind=Tariff.Kind.UPKEEP, price=Decimal(upkeep))


def house_with_flats(
    *,
    flats: int,
    meters_per_flat: int = 1,
    months: Sequence[tuple[int, int]] = (),
    step: str = "1.5",
) -> House:
    """A house whose every meter has a reading for each month, rising by `step` m3 a month."""
    house = HouseFactory.create()
    flat_rows = Flat.objects.bulk_create(
        Flat(house=house, number=n, area=Decimal(30 + n) + Decimal("0.125"))
        for n in range(1, flats + 1)
    )
    meters = WaterMeter.objects.bulk_create(
        WaterMeter(
            flat=flat, serial=f"H{house.pk}-F{flat.number}-M{k}", installed_on=date(2020, 1, 1)
        )
        for flat in flat_rows
        for k in range(meters_per_flat)
    )
    MeterReading.objects.bulk_create(
        MeterReading(
            meter=meter, year=year, month=month, value=Decimal(step) * (i + 1) + meter.flat.number
        )
        for meter in meters
        for i, (year, month) in enumerate(months)
    )
    return house
