"""The compatible housing endpoints, with the original API's own examples."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from housing.models import Flat, House, MeterReading, Street, WaterMeter
from housing.tests.factories import (
    FlatFactory,
    HouseFactory,
    MeterReadingFactory,
    StreetFactory,
    WaterMeterFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal

EXAMPLE_HOUSE = {
    "house_number": 1,
    "street": {"street_name": "Первая улица"},
    "flats": [
        {"flat_number": 1, "flat_size": 90.3072359239811, "water_checkers_count": 2},
        {"flat_number": 10, "flat_size": 35.77, "water_checkers_count": 3},
    ],
}


def snapshot() -> tuple:
    return (
        list(House.objects.values_list("street__name", "number").order_by("pk")),
        list(Flat.objects.values_list("house_id", "number", "area").order_by("pk")),
        WaterMeter.objects.count(),
        MeterReading.objects.count(),
    )


def create_example_house(client) -> dict:
    response = client.post("/api/homes/create/", EXAMPLE_HOUSE, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_home_answers_the_seed_shape_with_meters_installed(operator_client):
    body = create_example_house(operator_client)

    assert body == {
        "house_number": 1,
        "street": {"street_name": "Первая улица"},
        "flats": [
            {"flat_number": 1, "flat_size": 90.307, "water_checkers_count": 2},
            {"flat_number": 10, "flat_size": 35.77, "water_checkers_count": 3},
        ],
    }
    assert Flat.objects.get(number=1).area == D("90.307")
    assert WaterMeter.objects.count() == 5


@pytest.mark.parametrize("path", ["/api/homes/", "/api/homes"])
def test_homes_list_is_a_plain_array_with_and_without_trailing_slash(
    path, operator_client, resident_client
):
    create_example_house(operator_client)

    response = resident_client.get(path)

    assert response.status_code == 200
    assert response.json() == [
        {
            "house_number": 1,
            "street": {"street_name": "Первая улица"},
            "flats": [
                {"flat_number": 1, "flat_size": 90.307, "water_checkers_count": 2},
                {"flat_number": 10, "flat_size": 35.77, "water_checkers_count": 3},
            ],
        }
    ]


def test_homes_need_a_signed_in_user():
    response = APIClient().get("/api/homes/")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert response.json()["code"] == "not_authenticated"


def _houses(count: int) -> None:
    for _ in range(count):
        house = HouseFactory()
        for n in (1, 2, 3):
            flat = FlatFactory(house=house, number=n)
            WaterMeterFactory.create_batch(2, flat=flat)


def test_homes_list_query_count_does_not_grow_with_houses_or_flats(resident_client):
    _houses(1)
    with CaptureQueriesContext(connection) as one:
        assert len(resident_client.get("/api/homes/").json()) == 1
    _houses(49)
    with CaptureQueriesContext(connection) as fifty:
        assert len(resident_client.get("/api/homes/").json()) == 50
    assert len(one) == len(fifty)
    with CaptureQueriesContext(connection) as clean_api:
        assert resident_client.get("/api/v1/houses/?page_size=50").json()["count"] == 50
    _houses(1)
    with CaptureQueriesContext(connection) as clean_api_more:
        assert resident_client.get("/api/v1/houses/?page_size=100").json()["count"] == 51
    assert len(clean_api) == len(clean_api_more)


@pytest.mark.parametrize("path", ["/api/homes/details/", "/api/homes/details"])
def test_home_details_by_number_and_street(path, operator_client, resident_client):
    create_example_house(operator_client)
    response = resident_client.get(path, {"home_number": 1, "street_name": "Первая улица"})
    assert response.status_code == 200
    assert response.json()["flats"][1]["water_checkers_count"] == 3


@pytest.mark.parametrize(
    "params", [{}, {"home_number": 1}, {"street_name": "Первая улица"}, {"home_number": "x"}]
)
def test_home_details_without_both_parameters_is_400(params, resident_client):
    response = resident_client.get("/api/homes/details/", params)
    assert response.status_code == 400
    assert response.json()["code"] in {"required", "invalid"}


def test_home_details_of_unknown_house_is_404(operator_client, resident_client):
    create_example_house(operator_client)
    for params in [
        {"home_number": 2, "street_name": "Первая улица"},
        {"home_number": 1, "street_name": "Нет"},
    ]:
        response = resident_client.get("/api/homes/details/", params)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_put_renames_the_street_adds_and_resizes_flats(operator_client):
    create_example_house(operator_client)
    other = HouseFactory(street=Street.objects.get(name="Первая улица"), number=2)

    response = operator_client.put(
        "/api/homes/details/?home_number=1&street_name=Первая улица",
        {
            "street": {"street_name": "Ул. Новая"},
            "flats": [{"flat_number": 1, "flat_size": 50.0}, {"flat_number": 2, "flat_size": 60}],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["street"] == {"street_name": "Ул. Новая"}
    assert [(f["flat_number"], f["flat_size"]) for f in body["flats"]] == [
        (1, 50.0),
        (2, 60.0),
        (10, 35.77),
    ]
    other.refresh_from_db()
    assert other.street.name == "Первая улица"
    again = operator_client.get(
        "/api/homes/details", {"home_number": 1, "street_name": "Ул. Новая"}
    )
    assert again.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"flats": [{"flat_number": 1, "flat_size": -5}]},
        {"flats": [{"flat_number": 1, "flat_size": "big"}]},
        {"flats": [{"flat_number": 0, "flat_size": 5}]},
        {"flats": [{"flat_number": 3, "flat_size": 5}, {"flat_number": 3, "flat_size": 6}]},
        {"house_number": "one"},
        {"street": {"street_name": ""}},
    ],
)
def test_put_with_bad_input_is_400_and_changes_nothing(body, operator_client):
    create_example_house(operator_client)
    before = snapshot()
    response = operator_client.put(
        "/api/homes/details/?home_number=1&street_name=Первая улица", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert "detail" in response.json()
    assert snapshot() == before


def test_put_onto_an_existing_address_is_400_and_changes_nothing(operator_client):
    create_example_house(operator_client)
    HouseFactory(street=StreetFactory(name="Вторая"), number=1)
    before = snapshot()
    response = operator_client.put(
        "/api/homes/details/?home_number=1&street_name=Первая улица",
        {"street": {"street_name": "Вторая"}},
        format="json",
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_put_and_delete_need_an_operator(operator_client, resident_client):
    create_example_house(operator_client)
    before = snapshot()
    url = "/api/homes/details/?home_number=1&street_name=Первая улица"
    assert resident_client.put(url, {"house_number": 5}, format="json").status_code == 403
    assert resident_client.delete(url).status_code == 403
    assert (
        resident_client.post("/api/homes/create/", EXAMPLE_HOUSE, format="json").status_code == 403
    )
    assert snapshot() == before


def test_delete_home_is_204_then_404(operator_client):
    create_example_house(operator_client)
    url = "/api/homes/details?home_number=1&street_name=Первая улица"
    assert operator_client.delete(url).status_code == 204
    assert not House.objects.exists()
    assert not Flat.objects.exists()
    assert operator_client.delete(url).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"house_number": 1},
        {"house_number": -1, "street": {"street_name": "A"}},
        {"house_number": 1, "street": "A"},
        {"house_number": 1, "street": {"street_name": "A"}, "flats": [{"flat_number": 1}]},
        {"house_number": 1, "street": {"street_name": "A"}, "flats": "many"},
        {
            "house_number": 1,
            "street": {"street_name": "A"},
            "flats": [{"flat_number": 1, "flat_size": 0}],
        },
    ],
)
def test_create_home_with_bad_input_is_400_and_stores_nothing(body, operator_client):
    response = operator_client.post("/api/homes/create", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert snapshot() == ([], [], 0, 0)
    assert not Street.objects.exists()


def test_create_existing_home_is_400(operator_client):
    create_example_house(operator_client)
    before = snapshot()
    response = operator_client.post("/api/homes/create/", EXAMPLE_HOUSE, format="json")
    assert response.status_code == 400
    assert "house_number" in response.json()
    assert snapshot() == before


# --- water checkers -------------------------------------------------------------------------


@pytest.fixture
def seeded(operator_client):
    create_example_house(operator_client)
    house = House.objects.get()
    FlatFactory(house=house, number=2)  # a flat without meters
    single = FlatFactory(house=house, number=3)
    WaterMeterFactory(flat=single, serial="ONLY-3")
    return house


@pytest.mark.parametrize("path", ["/api/water-checkers/create/", "/api/water-checkers/create"])
def test_water_checker_from_form_data_uses_the_only_meter(path, seeded, operator_client):
    response = operator_client.post(
        path,
        {"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": "220.0"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "home": 1,
        "flat": 3,
        "year": 2024,
        "month": 7,
        "water_amount": 220.0,
        "serial": "ONLY-3",
    }


def test_water_checker_for_a_flat_without_meter_installs_one(seeded, operator_client):
    response = operator_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flats": "2", "year": 2024, "month": 7, "water_amount": 111},
        format="json",
    )
    assert response.status_code == 201, response.content
    meter = WaterMeter.objects.get(flat__number=2)
    assert response.json()["serial"] == meter.serial
    assert meter.readings.get().value == D("111")


def test_water_checker_for_several_flats_answers_a_list(seeded, operator_client):
    response = operator_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flats": "2,3", "year": 2024, "month": 7, "water_amount": 5.5},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [(r["flat"], r["water_amount"]) for r in response.json()] == [(2, 5.5), (3, 5.5)]


def test_water_checker_for_a_flat_with_several_meters_asks_for_the_serial(seeded, operator_client):
    before = snapshot()
    response = operator_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flat": 1, "year": 2024, "month": 7, "water_amount": 5},
        format="json",
    )
    assert response.status_code == 400
    assert "serial" in response.json()
    assert snapshot() == before

    serial = WaterMeter.objects.filter(flat__number=1).first().serial
    response = operator_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flat": 1, "year": 2024, "month": 7, "water_amount": 5, "serial": serial},
        format="json",
    )
    assert response.status_code == 201


def test_water_checker_lower_than_the_previous_reading_is_refused(seeded, operator_client):
    meter = WaterMeter.objects.get(serial="ONLY-3")
    MeterReadingFactory(meter=meter, year=2024, month=6, value=D("300"))
    before = snapshot()
    response = operator_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": 299.9},
        format="json",
    )
    assert response.status_code == 400
    assert "earlier reading" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"home": 1, "flat": 3, "year": 2024, "month": 13, "water_amount": 1}, 400),
        ({"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": -1}, 400),
        ({"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": "lots"}, 400),
        ({"home": 1, "year": 2024, "month": 7, "water_amount": 1}, 400),
        ({"home": 1, "flats": "3,x", "year": 2024, "month": 7, "water_amount": 1}, 400),
        ({"home": 1, "flat": 99, "year": 2024, "month": 7, "water_amount": 1}, 400),
        ({"home": 1, "flat": 3, "year": 2999, "month": 7, "water_amount": 1}, 400),
        ({"home": 1, "flat": 3, "year": 2100, "month": 12, "water_amount": 1}, 400),
        ({"home": 7, "flat": 3, "year": 2024, "month": 7, "water_amount": 1}, 404),
    ],
)
def test_water_checker_bad_input_stores_nothing(body, code, seeded, operator_client):
    before = snapshot()
    response = operator_client.post("/api/water-checkers/create/", body, format="json")
    assert response.status_code == code, response.content
    assert response.json()["detail"]
    assert snapshot() == before


def test_water_checker_needs_an_operator(seeded, resident_client):
    before = snapshot()
    response = resident_client.post(
        "/api/water-checkers/create/",
        {"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": 1},
        format="json",
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_water_checker_details_filters_from_query_or_form_data(seeded, resident_client):
    meter = WaterMeter.objects.get(serial="ONLY-3")
    MeterReadingFactory(meter=meter, year=2024, month=6, value=D("100"))
    MeterReadingFactory(meter=meter, year=2024, month=7, value=D("220"))
    other_meter = WaterMeterFactory(flat=FlatFactory(house=HouseFactory(number=9), number=3))
    MeterReadingFactory(meter=other_meter, year=2024, month=7, value=D("1"))

    by_query = resident_client.get(
        "/api/water-checkers/details/", {"home": 1, "flats": "3", "year": 2024, "month": 7}
    )
    assert by_query.status_code == 200
    assert by_query.json() == [
        {"home": 1, "flat": 3, "year": 2024, "month": 7, "water_amount": 220.0, "serial": "ONLY-3"}
    ]
    by_form = resident_client.generic(
        "GET",
        "/api/water-checkers/details",
        "home=1&flats=3,2&month=6",
        content_type="application/x-www-form-urlencoded",
    )
    assert by_form.status_code == 200
    assert [r["water_amount"] for r in by_form.json()] == [100.0]
    everything = resident_client.get("/api/water-checkers/details/")
    assert len(everything.json()) == 3


def test_water_checker_details_unknown_house_is_404_and_no_match_is_empty(seeded, resident_client):
    assert resident_client.get("/api/water-checkers/details/", {"home": 42}).status_code == 404
    empty = resident_client.get("/api/water-checkers/details/", {"home": 1, "year": 2001})
    assert (empty.status_code, empty.json()) == (200, [])
    bad = resident_client.get("/api/water-checkers/details/", {"month": 13})
    assert bad.status_code == 400


HUGE = [1e135, "1e135", -3e120, "-3e120", 1e30, "999999999.9996", "1" + "0" * 400]


@pytest.mark.parametrize("value", HUGE)
def test_numbers_too_large_for_a_field_are_a_400_not_a_500(value, operator_client):
    create_example_house(operator_client)
    flat = Flat.objects.get(number=1)
    meter = WaterMeter.objects.filter(flat=flat).first()
    before = snapshot()
    requests = [
        ("/api/homes/create/", {**EXAMPLE_HOUSE, "house_number": 2,
                                "flats": [{"flat_number": 1, "flat_size": value}]}, "flats"),
        ("/api/v1/flats/", {"house": flat.house_id, "number": 77, "area": value}, "area"),
        ("/api/v1/meters/", {"flat": flat.pk, "initial_value": value}, "initial_value"),
        ("/api/v1/readings/", {"meter": meter.pk, "year": 2026, "month": 1, "value": value},
         "value"),
    ]  # fmt: skip
    for path, body, field in requests:
        response = operator_client.post(path, body, format="json")

        assert response.status_code == 400, (path, response.content)
        error = response.json()
        assert error["detail"], error
        assert error["code"], error
        assert error[field], error
    response = operator_client.patch(f"/api/v1/flats/{flat.pk}/", {"area": value}, format="json")
    assert response.status_code == 400
    assert response.json()["area"]
    assert snapshot() == before
