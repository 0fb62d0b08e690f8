"""Residency: operators link and unlink, flat codes are one-time and expire, residents see
only their own flats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from housing.tests.factories import FlatFactory
from residents.models import FlatCode, Residency

pytestmark = pytest.mark.django_db


def test_operator_links_lists_and_unlinks_a_resident(operator_client, client_for):
    user, flat = UserFactory(), FlatFactory()
    created = operator_client.post("/api/v1/residencies/", {"user": user.pk, "flat": flat.pk})
    assert created.status_code == 201, created.content
    again = operator_client.post("/api/v1/residencies/", {"user": user.pk, "flat": flat.pk})
    assert again.status_code == 200
    assert again.data["id"] == created.data["id"]
    assert client_for(user).get("/api/v1/me/flats/").json()[0]["id"] == flat.pk

    listed = operator_client.get(f"/api/v1/residencies/?flat={flat.pk}").json()
    assert [r["user"] for r in listed["results"]] == [user.pk]
    assert operator_client.delete(f"/api/v1/residencies/{created.data['id']}/").status_code == 204
    assert client_for(user).get("/api/v1/me/flats/").json() == []
    assert client_for(user).get(f"/api/v1/me/flats/{flat.pk}/").status_code == 404


def test_residents_cannot_use_the_operator_endpoints(client_for):
    user, flat = UserFactory(), FlatFactory()
    client = client_for(user)
    assert (
        client.post("/api/v1/residencies/", {"user": user.pk, "flat": flat.pk}).status_code == 403
    )
    assert client.post("/api/v1/flat-codes/", {"flat": flat.pk}).status_code == 403
    assert not Residency.objects.exists()


def test_a_flat_code_makes_its_redeemer_a_resident_once(operator_client, client_for):
    flat = FlatFactory()
    code = operator_client.post("/api/v1/flat-codes/", {"flat": flat.pk}).json()["code"]
    first, second = UserFactory(), UserFactory()
    redeemed = client_for(first).post("/api/v1/me/flats/redeem/", {"code": code.lower()})
    assert redeemed.status_code == 201, redeemed.content
    assert redeemed.json()["id"] == flat.pk
    used = client_for(second).post("/api/v1/me/flats/redeem/", {"code": code})
    assert used.status_code == 409
    assert used.json()["code"] == "code_used"
    assert list(Residency.objects.values_list("user_id", flat=True)) == [first.pk]


def test_unknown_and_expired_codes_are_refused(operator_client, client_for):
    flat = FlatFactory()
    user = UserFactory()
    unknown = client_for(user).post("/api/v1/me/flats/redeem/", {"code": "NOPE2345"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "no_such_code"
    code = FlatCode.objects.create(flat=flat, expires_at=timezone.now() - timedelta(seconds=1))
    expired = client_for(user).post("/api/v1/me/flats/redeem/", {"code": code.code})
    assert expired.status_code == 409
    assert expired.json()["code"] == "code_expired"
    assert not Residency.objects.exists()


def test_anonymous_users_get_401():
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/me/flats/").status_code == 401
    assert APIClient().post("/api/v1/me/flats/redeem/", {"code": "X"}).status_code == 401


def test_another_residents_flat_is_a_404(client_for):
    mine, theirs = FlatFactory(), FlatFactory()
    user = UserFactory()
    Residency.objects.create(user=user, flat=mine)
    Residency.objects.create(user=UserFactory(), flat=theirs)
    client = client_for(user)
    assert client.get(f"/api/v1/me/flats/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/me/flats/{theirs.pk}/").status_code == 404
    assert [f["id"] for f in client.get("/api/v1/me/flats/").json()] == [mine.pk]


def test_demo_data_links_alice_and_is_idempotent(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo_data", verbosity=0)
    call_command("seed_demo_data", verbosity=0)
    assert list(Residency.objects.values_list("user__username", flat=True)) == ["alice"]
    assert FlatCode.objects.filter(used_at__isnull=True).count() == 1
