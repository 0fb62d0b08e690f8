"""Readings by residents: their own meters, inside the window, the operators' rules, closed
once the month's rent run has started; operators see who submitted and who did not."""

from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from billing.models import RentRun
from housing.models import MeterReading
from residents.models import ReadingSubmission
from residents.tests.factories import (
    house_with_residents,
    meter_of,
    reading,
    window_with_today,
    window_without_today,
)

pytestmark = pytest.mark.django_db


def this_month():
    today = timezone.localdate()
    return today.year, today.month


@pytest.fixture
def in_window():
    with override_settings(READINGS_WINDOW_DAYS=window_with_today()):
        yield


def test_resident_submits_and_corrects_this_months_reading(in_window, client_for):
    house, [user, _other] = house_with_residents()
    meter = meter_of(user)
    client = client_for(user)
    posted = client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "120.5"})
    assert posted.status_code == 201, posted.content
    assert posted.json()["submitted_by"] == user.pk
    assert (posted.json()["year"], posted.json()["month"]) == this_month()
    patched = client.patch(f"/api/v1/me/readings/{posted.json()['id']}/", {"value": "121"})
    assert patched.status_code == 200
    assert patched.json()["value"] == "121.000"
    flats = client.get("/api/v1/me/flats/").json()
    assert flats[0]["meters"][0]["last_reading"]["value"] == "121.000"


def test_outside_the_window_is_409_with_the_window(client_for):
    house, [user, _other] = house_with_residents()
    with override_settings(READINGS_WINDOW_DAYS=window_without_today()):
        answer = client_for(user).post(
            "/api/v1/me/readings/", {"meter": meter_of(user).pk, "value": "120"}
        )
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "outside_reading_window"
    assert set(body["window"]) == {"opens", "closes"}
    assert not MeterReading.objects.filter(year=this_month()[0], month=this_month()[1]).exists()


def test_default_window_is_the_15th_to_the_25th():
    from datetime import date

    from residents.services import reading_window

    window = reading_window(date(2026, 2, 20))
    assert (window.opens, window.closes) == (date(2026, 2, 15), date(2026, 2, 25))


def test_falling_value_and_second_reading_follow_the_operators_rules(in_window, client_for):
    house, [user, _other] = house_with_residents()
    meter = meter_of(user)
    client = client_for(user)
    low = client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "0.5"})
    assert low.status_code == 400
    assert "below the earlier reading" in low.json()["detail"]
    assert (
        client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "50"}).status_code == 201
    )
    twice = client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "60"})
    assert twice.status_code == 400
    assert "already has a reading" in twice.json()["detail"]
    bad = client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "-1"})
    assert bad.status_code == 400


def test_closed_once_the_months_rent_run_started(in_window, client_for):
    house, [user, _other] = house_with_residents()
    meter = meter_of(user)
    client = client_for(user)
    posted = client.post("/api/v1/me/readings/", {"meter": meter.pk, "value": "50"}).json()
    year, month = this_month()
    RentRun.objects.create(house=house, year=year, month=month)
    edit = client.patch(f"/api/v1/me/readings/{posted['id']}/", {"value": "51"})
    assert edit.status_code == 409
    assert edit.json()["code"] == "rent_started"
    assert MeterReading.objects.get(pk=posted["id"]).value == Decimal("50")


def test_a_failed_run_does_not_close_the_month(in_window, client_for):
    house, [user, _other] = house_with_residents()
    year, month = this_month()
    RentRun.objects.create(house=house, year=year, month=month, status=RentRun.Status.FAILED)
    answer = client_for(user).post(
        "/api/v1/me/readings/", {"meter": meter_of(user).pk, "value": "50"}
    )
    assert answer.status_code == 201


def test_only_this_months_reading_can_be_corrected(in_window, client_for):
    house, [user, _other] = house_with_residents()
    old = MeterReading.objects.get(meter=meter_of(user), year=2024, month=1)
    answer = client_for(user).patch(f"/api/v1/me/readings/{old.pk}/", {"value": "3"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "reading_closed"


def test_another_residents_meter_and_reading_are_404(in_window, client_for):
    house, [user, other] = house_with_residents()
    theirs = reading(meter_of(other), *this_month(), "70")
    client = client_for(user)
    assert (
        client.post(
            "/api/v1/me/readings/", {"meter": meter_of(other).pk, "value": "80"}
        ).status_code
        == 404
    )
    assert client.patch(f"/api/v1/me/readings/{theirs.pk}/", {"value": "90"}).status_code == 404
    assert MeterReading.objects.get(pk=theirs.pk).value == Decimal("70")
    assert theirs.pk not in [r["id"] for r in client.get("/api/v1/me/readings/").json()]


def test_operators_see_who_submitted_and_which_flats_have_none(
    in_window, operator_client, client_for
):
    house, [user, other, _third] = house_with_residents(flats=3)
    client_for(user).post("/api/v1/me/readings/", {"meter": meter_of(user).pk, "value": "50"})
    reading(meter_of(other), *this_month(), "60")  # entered by an operator
    third = house.flats.get(number=3)
    third.residencies.all().delete()
    year, month = this_month()
    body = operator_client.get(
        f"/api/v1/houses/{house.pk}/readings/?year={year}&month={month}"
    ).json()
    by_flat = {r["flat_number"]: r["submitted_by"] for r in body["readings"]}
    assert by_flat == {1: user.pk, 2: None}
    assert body["flats_without_readings"] == [3]
    assert ReadingSubmission.objects.count() == 1
    assert (
        client_for(user)
        .get(f"/api/v1/houses/{house.pk}/readings/?year={year}&month={month}")
        .status_code
        == 403
    )
