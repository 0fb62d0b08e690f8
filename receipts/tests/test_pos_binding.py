"""A point of sale posts only for its assigned places; no receipt comes from the future."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.testing import token_client
from receipts.demo import PLACES, pos_user
from receipts.models import DeadLetter, Place, PointOfSalePlace, Receipt
from receipts.tests.factories import PosUserFactory, UserFactory, receipt_payload

pytestmark = pytest.mark.django_db


def _operator_pos():
    """A staff user who may post receipts (an operator: not bound to places)."""
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="post_receipts"))
    return user


def _later(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def test_receipt_for_a_place_not_assigned_is_403_and_renames_nothing(read_journal):
    owner = token_client(PosUserFactory(places=["011"]))
    assert owner.post("/api/add_checks/", receipt_payload("t1"), format="json").status_code == 201
    intruder = token_client(PosUserFactory(places=["012"]))
    hostile = receipt_payload("t2", place_name="HACKED NAME", timestamp=_later(seconds=60))

    for path in ("/api/checks/", "/api/add_checks/"):
        response = intruder.post(path, hostile, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "place_not_assigned"

    assert Place.objects.get(code="011").name == "Магазин №1"
    assert list(Receipt.objects.values_list("transaction_id", flat=True)) == ["t1"]
    assert set(DeadLetter.objects.values_list("reason", flat=True)) == {"forbidden"}
    assert [line["outcome"] for line in read_journal()] == ["created", "forbidden", "forbidden"]


def test_bulk_stores_assigned_places_and_reports_the_others():
    client = token_client(PosUserFactory(places=["011"]))
    body = [receipt_payload("ok"), receipt_payload("no", place_id="099", place_name="X")]

    data = client.post("/api/checks/bulk/", body, format="json").json()

    assert [r["status"] for r in data["results"]] == ["created", "forbidden"]
    assert (data["created"], data["forbidden"]) == (1, 1)
    assert "place_id" in data["results"][1]["errors"]
    assert list(Receipt.objects.values_list("transaction_id", flat=True)) == ["ok"]
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.FORBIDDEN


def test_operators_post_for_any_place():
    operator = _operator_pos()
    body = receipt_payload("op", place_id="777", place_name="Anywhere")

    assert token_client(operator).post("/api/checks/", body, format="json").status_code == 201


def test_operator_assigns_and_withdraws_places_through_the_api():
    pos = PosUserFactory(places=[])
    operator = token_client(UserFactory(is_staff=True))
    places_url = f"/api/points-of-sale/{pos.pk}/places/"
    body = receipt_payload("n1", place_id="099", place_name="New shop")

    assert token_client(pos).post("/api/checks/", body, format="json").status_code == 403
    first = operator.post(places_url, {"place_id": "099"}, format="json")
    again = operator.post(places_url, {"place_id": "099"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert [p["place_id"] for p in operator.get(places_url).json()] == ["099"]
    assert token_client(pos).post("/api/checks/", body, format="json").status_code == 201

    assert operator.delete(f"{places_url}099/").status_code == 204
    assert operator.delete(f"{places_url}099/").status_code == 404
    other = receipt_payload("n2", place_id="099", place_name="New shop")
    assert token_client(pos).post("/api/checks/", other, format="json").status_code == 403


def test_only_operators_manage_assignments():
    pos = PosUserFactory()
    url = f"/api/points-of-sale/{pos.pk}/places/"

    assert token_client(pos).post(url, {"place_id": "099"}, format="json").status_code == 403
    assert token_client(pos).get(url).status_code == 403
    assert (
        token_client(UserFactory(is_staff=True)).get("/api/points-of-sale/0/places/").json()["code"]
        == "not_found"
    )
    assert not PointOfSalePlace.objects.filter(place_code="099").exists()


@pytest.mark.parametrize("operator", [False, True])
def test_receipt_from_the_future_is_400_for_everyone(operator, settings):
    settings.RECEIPTS_MAX_FUTURE_SECONDS = 300
    user = _operator_pos() if operator else PosUserFactory()
    client = token_client(user)

    late = client.post("/api/checks/", receipt_payload("f1", timestamp=_later(minutes=6)))
    bulk = client.post("/api/checks/bulk/", [receipt_payload("f2", timestamp="2030-01-01T00:00")])
    near = client.post("/api/checks/", receipt_payload("f3", timestamp=_later(minutes=4)))

    assert late.status_code == 400
    assert late.json()["timestamp"] == ["May not be more than 300 seconds in the future."]
    assert bulk.json()["results"][0]["status"] == "invalid"
    assert near.status_code == 201
    assert list(Receipt.objects.values_list("transaction_id", flat=True)) == ["f3"]


def test_demo_point_of_sale_is_assigned_the_demo_places():
    user = pos_user()
    assert set(user.receipt_places.values_list("place_code", flat=True)) == set(PLACES)


def test_assignments_are_managed_in_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    pos = PosUserFactory(places=[])

    added = client.post(
        reverse("admin:receipts_pointofsaleplace_add"), {"user": pos.pk, "place_code": "055"}
    )

    assert added.status_code == 302
    assignment = PointOfSalePlace.objects.get(user=pos)
    assert (assignment.place_code, assignment.assigned_by) == ("055", admin)
    assert client.get(reverse("admin:receipts_pointofsaleplace_changelist")).status_code == 200
