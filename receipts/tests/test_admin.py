import pytest
from django.urls import reverse

from receipts.models import DeadLetter, Place
from receipts.services.consumption import consume_events
from receipts.services.ingestion import ingest_receipts
from receipts.tests.factories import UserFactory, receipt_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_dead_letters_are_listed_in_the_admin(admin_client):
    ingest_receipts(payloads=[receipt_payload("bad", items=[])], channel="checks")
    letter = DeadLetter.objects.get()

    listing = admin_client.get(reverse("admin:receipts_deadletter_changelist"))
    detail = admin_client.get(reverse("admin:receipts_deadletter_change", args=[letter.pk]))

    assert listing.status_code == 200
    assert "bad" in listing.content.decode()
    assert detail.status_code == 200
    assert "A receipt needs at least one item." in detail.content.decode()


def test_place_page_shows_the_last_24_hours_chart(admin_client):
    consume_events(events=[receipt_payload()])
    place = Place.objects.get()

    response = admin_client.get(reverse("admin:receipts_place_change", args=[place.pk]))

    assert response.status_code == 200
    assert "<svg" in response.content.decode()


@pytest.mark.parametrize("model", ["receipt", "purchase", "placehour", "category"])
def test_other_receipt_pages_open(admin_client, model):
    consume_events(events=[receipt_payload()])
    ingest_receipts(payloads=[receipt_payload()], channel="checks")

    assert admin_client.get(reverse(f"admin:receipts_{model}_changelist")).status_code == 200
