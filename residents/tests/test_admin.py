"""The residents' admin: residents on the flat page, flat codes, collection accounts, the
payments overview with the debtors' xlsx, notices; every page opens in both languages."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from residents.models import ChargePayment, FlatCode, Notification, RentPayment, Residency
from residents.services import pay_charge
from residents.tests.factories import (
    PAST,
    charge_of,
    collector,
    funded_account,
    house_with_residents,
    run_rent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(username="boss", password="boss-pass-123"))
    return client


@pytest.fixture
def data():
    house, users = house_with_residents(flats=2)
    run_rent(house, *PAST)
    collector(house)
    funded_account(users[0], "10000")
    pay_charge(user=users[0], charge_id=charge_of(users[0]).pk)
    Notification.objects.create(
        user=users[0], flat=charge_of(users[0]).flat, year=2024, month=1, kind="rent",
        version="v", channel="sms", address="+79990000000", text="Rent",
    )  # fmt: skip
    return house, users


@pytest.mark.parametrize("language", ["en", "ru"])
def test_residents_pages_open(admin_client, data, language):
    house, users = data
    flat = charge_of(users[0]).flat
    for name in ["residency", "flatcode", "collectionaccount", "chargepayment", "notification",
                 "rentpayment"]:  # fmt: skip
        url = reverse(f"admin:residents_{name}_changelist")
        assert admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code == 200, url
        add = reverse(f"admin:residents_{name}_add")
        assert admin_client.get(add).status_code in (200, 403), add
    page = admin_client.get(reverse("admin:housing_flat_change", args=[flat.pk]))
    assert page.status_code == 200
    assert users[0].username in page.content.decode()


def test_a_flat_code_is_drawn_by_the_service(admin_client, data):
    house, _users = data
    flat = house.flats.get(number=2)
    answer = admin_client.post(reverse("admin:residents_flatcode_add"), {"flat": flat.pk})
    assert answer.status_code == 302
    code = FlatCode.objects.get()
    assert code.flat == flat
    assert len(code.code) == 8
    assert code.expires_at


def test_payments_overview_filters_and_downloads_debtors(admin_client, data):
    house, users = data
    url = reverse("admin:residents_rentpayment_changelist")
    unpaid = admin_client.get(url + "?state=unpaid").content.decode()
    assert "unpaid" in unpaid
    ids = list(RentPayment.objects.filter(house=house).values_list("pk", flat=True))
    answer = admin_client.post(
        url, {"action": "debtors_xlsx", "_selected_action": [str(i) for i in ids]}
    )
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.content)).active.values)
    assert rows[3][0] == charge_of(users[1]).flat.number
    assert ChargePayment.objects.count() == 1
    assert Residency.objects.count() == 2


def test_the_readings_list_shows_who_submitted(admin_client, data):
    from django.utils import timezone

    from housing.models import MeterReading
    from residents.models import ReadingSubmission
    from residents.tests.factories import meter_of

    house, users = data
    today = timezone.localdate()
    reading = MeterReading.objects.create(
        meter=meter_of(users[0]), year=today.year, month=today.month, value=99
    )
    ReadingSubmission.objects.create(reading=reading, user=users[0])
    page = admin_client.get(reverse("admin:housing_meterreading_changelist")).content.decode()
    assert users[0].username in page
