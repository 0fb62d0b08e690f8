"""The resource API (/api/v1/...): houses, flats, meters, readings, tariffs."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.tests.factories import (
    FlatFactory,
    HouseFactory,
    MeterReadingFactory,
    TariffFactory,
    WaterMeterFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def snapshot() -> tuple:
    return tuple(
        list(model.objects.order_by("pk").values())
        for model in (Street, House, Flat, WaterMeter, MeterReading, Tariff)
    )


def test_house_create_retrieve_update_delete(operator_client, resident_client):
    response = operator_client.post(
        "/api/v1/houses/",
        {
            "street_name": "Lenina",
            "number": 7,
            "flats": [{"number": 1, "area": "40.5", "meters": 2}, {"number": 2, "area": 33}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    house = response.json()
    assert house["street"]["name"] == "Lenina"
    assert [(f["number"], f["area"], f["meters_count"]) for f in house["flats"]] == [
        (1, "40.500", 2),
        (2, "33.000", 0),
    ]
    url = f"/api/v1/houses/{house['id']}/"
    assert resident_client.get(url).json()["number"] == 7
    patched = operator_client.patch(
        url, {"number": 8, "flats": [{"number": 2, "area": "34.25"}]}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["number"] == 8
    assert patched.json()["flats"][1]["area"] == "34.250"
    listed = resident_client.get("/api/v1/houses", {"street__name": "Lenina"}).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == house["id"]
    assert operator_client.delete(url).status_code == 204
    assert resident_client.get(url).status_code == 404


WRITES = [
    ("post", "/api/v1/houses/", {"street_name": "", "number": 1}),
    ("post", "/api/v1/houses/", {"street_name": "A", "number": "x"}),
    ("post", "/api/v1/houses/", {"street_name": "A", "number": 1, "flats": [{"number": 1}]}),
    (
        "post",
        "/api/v1/houses/",
        {"street_name": "A", "number": 1, "flats": [{"number": 1, "area": -3}]},
    ),
    ("patch", "/api/v1/houses/{house}/", {"flats": [{"number": 1, "area": 0}]}),
    ("patch", "/api/v1/houses/{house}/", {"number": -2}),
    ("post", "/api/v1/flats/", {"house": "{house}", "number": 1, "area": 10}),
    ("post", "/api/v1/flats/", {"house": 0, "number": 5, "area": 10}),
    ("post", "/api/v1/flats/", {"house": "{house}", "number": 5, "area": "-1"}),
    ("patch", "/api/v1/flats/{flat}/", {"area": "abc"}),
    ("post", "/api/v1/meters/", {"flat": "{flat}", "serial": "TAKEN"}),
    ("post", "/api/v1/meters/", {"flat": 0}),
    ("post", "/api/v1/meters/", {"flat": "{flat}", "initial_value": -1}),
    ("post", "/api/v1/meters/{meter}/replace/", {"removed_on": "2019-01-01"}),
    ("post", "/api/v1/meters/{meter}/replace/", {"removed_on": "not a date"}),
    ("post", "/api/v1/meters/{meter}/replace/", {"removed_on": "2024-03-10", "final_value": 1}),
    ("post", "/api/v1/readings/", {"meter": "{meter}", "year": 2024, "month": 13, "value": 5}),
    ("post", "/api/v1/readings/", {"meter": "{meter}", "year": 2024, "month": 3, "value": 5}),
    ("post", "/api/v1/readings/", {"meter": "{meter}", "year": 2024, "month": 1, "value": 100}),
    ("post", "/api/v1/readings/", {"meter": "{meter}", "year": 2024, "month": 4, "value": "a"}),
    ("post", "/api/v1/readings/", {"meter": 0, "year": 2024, "month": 4, "value": 50}),
    ("patch", "/api/v1/readings/{reading}/", {"value": 1}),
    (
        "post",
        "/api/v1/readings/bulk/",
        {"house": "{house}", "year": 2024, "month": 4, "readings": []},
    ),
    (
        "post",
        "/api/v1/readings/bulk/",
        {
            "house": "{house}",
            "year": 2024,
            "month": 4,
            "readings": [{"flat_number": 1, "value": 30}, {"flat_number": 77, "value": 30}],
        },
    ),
    ("post", "/api/v1/tariffs/", {"kind": "gas", "price": 1, "valid_from": "2024-01-01"}),
    ("post", "/api/v1/tariffs/", {"kind": "water", "price": -1, "valid_from": "2024-01-01"}),
    ("post", "/api/v1/tariffs/", {"kind": "water", "price": 1, "valid_from": "2020-01-01"}),
    ("patch", "/api/v1/tariffs/{tariff}/", {"price": "free"}),
]


@pytest.fixture
def registry():
    house = HouseFactory()
    flat = FlatFactory(house=house, number=1)
    meter = WaterMeterFactory(flat=flat, serial="TAKEN")
    MeterReadingFactory(meter=meter, year=2024, month=2, value=D("20"))
    reading = MeterReadingFactory(meter=meter, year=2024, month=3, value=D("25"))
    tariff = TariffFactory(kind=Tariff.Kind.WATER, valid_from=date(2020, 1, 1))
    return {
        "house": house.pk,
        "flat": flat.pk,
        "meter": meter.pk,
        "reading": reading.pk,
        "tariff": tariff.pk,
    }


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_bad_input_on_write_endpoints_is_400_json_and_changes_nothing(
    method, path, body, registry, operator_client
):
    before = snapshot()
    response = getattr(operator_client, method)(
        _fill(path, registry), _fill(body, registry), format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES[::3])
def test_writes_need_an_operator(method, path, body, registry, resident_client):
    before = snapshot()
    response = getattr(resident_client, method)(
        _fill(path, registry), _fill(body, registry), format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before
    assert APIClient().get("/api/v1/houses/").status_code == 401


def test_bulk_readings_for_a_month(registry, operator_client):
    house = House.objects.get(pk=registry["house"])
    two = FlatFactory(house=house, number=2)
    WaterMeterFactory(flat=two, serial="A")
    WaterMeterFactory(flat=two, serial="B")
    response = operator_client.post(
        "/api/v1/readings/bulk/",
        {
            "house": house.pk,
            "year": 2024,
            "month": 4,
            "readings": [
                {"flat_number": 1, "value": "26.5"},
                {"flat_number": 2, "serial": "A", "value": 3},
                {"flat_number": 2, "serial": "B", "value": 4},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert sorted((r["serial"], r["value"]) for r in response.json()) == [
        ("A", "3.000"),
        ("B", "4.000"),
        ("TAKEN", "26.500"),
    ]


def test_meter_replacement_allows_a_lower_value_on_the_new_meter(registry, operator_client):
    response = operator_client.post(
        f"/api/v1/meters/{registry['meter']}/replace/",
        {
            "removed_on": "2024-04-15",
            "final_value": 27,
            "new_serial": "NEW",
            "new_initial_value": 0,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["serial"] == "NEW"
    old = WaterMeter.objects.get(pk=registry["meter"])
    assert old.removed_on == date(2024, 4, 15)
    assert old.readings.get(year=2024, month=4).value == D("27")
    reading = operator_client.post(
        "/api/v1/readings/",
        {"meter": response.json()["id"], "year": 2024, "month": 5, "value": 1},
        format="json",
    )
    assert reading.status_code == 201, reading.content
    # The old meter takes no readings after its removal.
    late = operator_client.post(
        "/api/v1/readings/",
        {"meter": registry["meter"], "year": 2024, "month": 5, "value": 30},
        format="json",
    )
    assert late.status_code == 400


def test_reading_correction_keeps_the_series_rising(registry, operator_client):
    url = f"/api/v1/readings/{registry['reading']}/"
    assert operator_client.patch(url, {"value": "24"}, format="json").status_code == 200
    assert MeterReading.objects.get(pk=registry["reading"]).value == D("24")


def test_tariffs_global_and_per_house(registry, operator_client, resident_client):
    response = operator_client.post(
        "/api/v1/tariffs/",
        {"kind": "upkeep", "price": "12.5", "valid_from": "2024-01-01", "house": registry["house"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["price"] == "12.50"
    listed = resident_client.get("/api/v1/tariffs/", {"house": registry["house"]}).json()
    assert [t["kind"] for t in listed["results"]] == ["upkeep"]
