from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from housing import services
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.services import FlatSpec, ReadingSpec
from housing.tests.factories import (
    FlatFactory,
    HouseFactory,
    MeterReadingFactory,
    TariffFactory,
    WaterMeterFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_create_house_creates_street_flats_and_meters_atomically():
    house = services.create_house(
        street_name=" Lenina ",
        number=3,
        flats=[FlatSpec(number=1, area=D("40"), meters=2), FlatSpec(number=2, area=D("30"))],
    )
    assert house.street.name == "Lenina"
    assert list(house.flats.values_list("number", flat=True).order_by("number")) == [1, 2]
    assert WaterMeter.objects.filter(flat__house=house).count() == 2

    with pytest.raises(ValidationError):
        services.create_house(street_name="Lenina", number=3)
    with pytest.raises(ValidationError):
        services.create_house(
            street_name="Other",
            number=1,
            flats=[FlatSpec(number=1, area=D("1")), FlatSpec(number=1, area=D("2"))],
        )
    assert House.objects.count() == 1
    assert not Street.objects.filter(name="Other").exists()


def test_update_house_moves_it_to_another_street_and_upserts_flats():
    house = HouseFactory(number=4)
    FlatFactory(house=house, number=1, area=D("10"))
    FlatFactory(house=house, number=5, area=D("50"))

    services.update_house(
        house=house,
        street_name="New",
        flats=[FlatSpec(number=1, area=D("11")), FlatSpec(number=2, area=D("20"))],
    )

    house.refresh_from_db()
    assert house.street.name == "New"
    areas = dict(Flat.objects.filter(house=house).values_list("number", "area"))
    assert areas == {1: D("11.000"), 2: D("20.000"), 5: D("50.000")}


def test_reading_below_an_earlier_one_or_above_a_later_one_is_refused():
    meter = WaterMeterFactory()
    MeterReadingFactory(meter=meter, year=2024, month=2, value=D("10"))
    MeterReadingFactory(meter=meter, year=2024, month=5, value=D("20"))

    with pytest.raises(ValidationError, match="below the earlier reading"):
        services.record_readings(entries=[(meter, D("9.999"))], year=2024, month=3)
    with pytest.raises(ValidationError, match="above the later reading"):
        services.record_readings(entries=[(meter, D("20.5"))], year=2024, month=4)
    with pytest.raises(ValidationError, match="already has a reading"):
        services.record_readings(entries=[(meter, D("10"))], year=2024, month=2)
    services.record_readings(entries=[(meter, D("15"))], year=2024, month=3)

    assert list(meter.readings.values_list("month", flat=True)) == [2, 3, 5]


def test_readings_are_all_or_nothing():
    good, bad = WaterMeterFactory(), WaterMeterFactory()
    MeterReadingFactory(meter=bad, year=2024, month=1, value=D("100"))

    with pytest.raises(ValidationError):
        services.record_readings(entries=[(good, D("1")), (bad, D("2"))], year=2024, month=2)

    assert not good.readings.exists()


def test_readings_of_a_removed_or_not_yet_installed_meter_are_refused():
    removed = WaterMeterFactory(removed_on=date(2024, 1, 31))
    later = WaterMeterFactory(installed_on=date(2024, 3, 15))
    with pytest.raises(ValidationError, match="not installed"):
        services.record_readings(entries=[(removed, D("1"))], year=2024, month=2)
    with pytest.raises(ValidationError, match="not installed"):
        services.record_readings(entries=[(later, D("1"))], year=2024, month=2)
    services.record_readings(entries=[(later, D("1"))], year=2024, month=3)
    assert MeterReading.objects.count() == 1


def test_month_readings_resolve_meters_by_serial_or_install_one():
    house = HouseFactory()
    single = WaterMeterFactory(flat=FlatFactory(house=house, number=1))
    two = FlatFactory(house=house, number=2)
    a = WaterMeterFactory(flat=two, serial="A")
    WaterMeterFactory(flat=two, serial="B")
    FlatFactory(house=house, number=3)

    readings = services.record_house_readings(
        house=house,
        year=2024,
        month=6,
        readings=[
            ReadingSpec(flat_number=1, value=D("1")),
            ReadingSpec(flat_number=2, value=D("2"), serial="A"),
            ReadingSpec(flat_number=3, value=D("3")),
        ],
    )

    assert [r.meter_id for r in readings[:2]] == [single.pk, a.pk]
    installed = WaterMeter.objects.get(flat__number=3, flat__house=house)
    assert installed.installed_on == date(2024, 6, 1)
    with pytest.raises(ValidationError, match="give serial"):
        services.record_house_readings(
            house=house, year=2024, month=7, readings=[ReadingSpec(flat_number=2, value=D("5"))]
        )


def test_replace_meter_closes_the_old_one_and_refuses_a_second_replacement():
    meter = WaterMeterFactory()
    new = services.replace_meter(meter=meter, removed_on=date(2024, 5, 20), new_serial="N1")
    meter.refresh_from_db()
    assert (meter.removed_on, new.installed_on, new.serial) == (
        date(2024, 5, 20),
        date(2024, 5, 20),
        "N1",
    )
    with pytest.raises(ValidationError):
        services.replace_meter(meter=meter, removed_on=date(2024, 6, 1))
    with pytest.raises(ValidationError):
        services.create_meter(flat=meter.flat, serial="N1")


def test_a_second_tariff_of_a_kind_from_the_same_day_is_refused():
    TariffFactory(kind=Tariff.Kind.WATER, price=D("1.00"), valid_from=date(2020, 1, 1))
    with pytest.raises(ValidationError):
        services.create_tariff(kind=Tariff.Kind.WATER, price=D("5"), valid_from=date(2020, 1, 1))
