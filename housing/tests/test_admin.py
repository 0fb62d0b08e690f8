"""Readings in the admin: where they are, searchable, and recorded through the meter service."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import User
from housing.models import Flat, House, MeterReading, Street, WaterMeter

pytestmark = pytest.mark.django_db

URL = "/admin/housing/meterreading/"


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(username="root", password=None))
    return client


def meter_in(street: str, house: int, flat: int, serial: str) -> WaterMeter:
    street_row, _ = Street.objects.get_or_create(name=street)
    house_row, _ = House.objects.get_or_create(street=street_row, number=house)
    flat_row = Flat.objects.create(house=house_row, number=flat, area=Decimal("40.000"))
    return WaterMeter.objects.create(flat=flat_row, serial=serial, installed_on=date(2020, 1, 1))


@pytest.fixture
def meters():
    sadovaya = meter_in("Садовая", 5, 12, "SN-1")
    lesnaya = meter_in("Лесная", 7, 3, "SN-2")
    MeterReading.objects.create(meter=sadovaya, year=2024, month=1, value=Decimal("10.000"))
    MeterReading.objects.create(meter=lesnaya, year=2024, month=1, value=Decimal("20.000"))
    return sadovaya, lesnaya


def listed(client, query: str = "") -> list[str]:
    response = client.get(URL + query)
    assert response.status_code == 200
    return [r.meter.serial for r in response.context["cl"].result_list]


def test_list_shows_where_each_reading_is(admin_client, meters):
    html = admin_client.get(URL).content.decode()
    for column in ["street", "house_number", "flat_number", "serial", "year", "month", "value"]:
        assert f"column-{column}" in html, column
    assert '<td class="field-street">Садовая</td>' in html
    assert '<td class="field-flat_number">12</td>' in html


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Садовая", ["SN-1"]),
        ("Садовая 5", ["SN-1"]),
        ("7", ["SN-2"]),
        ("12", ["SN-1"]),
        ("SN-2", ["SN-2"]),
        ("Нет такой", []),
    ],
)
def test_search_by_street_house_flat_and_serial(admin_client, meters, query, found):
    assert listed(admin_client, f"?q={query}") == found


def test_filter_by_street_and_house(admin_client, meters):
    sadovaya, lesnaya = meters
    street = lesnaya.flat.house.street_id
    assert listed(admin_client, f"?meter__flat__house__street__id__exact={street}") == ["SN-2"]
    house = sadovaya.flat.house_id
    assert listed(admin_client, f"?meter__flat__house__id__exact={house}") == ["SN-1"]


def test_reading_added_through_the_service(admin_client, meters):
    sadovaya, _ = meters
    response = admin_client.post(
        URL + "add/", {"meter": sadovaya.pk, "year": 2024, "month": 2, "value": "12.500"}
    )
    assert response.status_code == 302
    reading = MeterReading.objects.get(meter=sadovaya, year=2024, month=2)
    assert reading.value == Decimal("12.500")
    assert str(reading) == "SN-1 (Садовая 5, flat 12) 2024-02: 12.500"


def test_lower_reading_is_a_form_error_and_nothing_is_saved(admin_client, meters):
    sadovaya, _ = meters
    response = admin_client.post(
        URL + "add/", {"meter": sadovaya.pk, "year": 2024, "month": 2, "value": "9.000"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "is below the earlier reading 10.000" in str(errors["value"])
    assert not MeterReading.objects.filter(month=2).exists()

    russian = admin_client.post(
        URL + "add/",
        {"meter": sadovaya.pk, "year": 2024, "month": 2, "value": "9.000"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "меньше прежнего показания" in russian.content.decode()


def test_correction_below_the_previous_month_is_refused(admin_client, meters):
    sadovaya, _ = meters
    later = MeterReading.objects.create(meter=sadovaya, year=2024, month=2, value=Decimal("15"))
    url = f"{URL}{later.pk}/change/"
    refused = admin_client.post(url, {"value": "5.000"})
    assert refused.status_code == 200
    assert "value" in refused.context["adminform"].form.errors
    later.refresh_from_db()
    assert later.value == Decimal("15.000")

    accepted = admin_client.post(url, {"value": "16.000"})
    assert accepted.status_code == 302
    later.refresh_from_db()
    assert later.value == Decimal("16.000")


def test_second_reading_of_a_month_is_a_form_error(admin_client, meters):
    sadovaya, _ = meters
    response = admin_client.post(
        URL + "add/", {"meter": sadovaya.pk, "year": 2024, "month": 1, "value": "11.000"}
    )
    assert response.status_code == 200
    assert MeterReading.objects.filter(meter=sadovaya).count() == 1
