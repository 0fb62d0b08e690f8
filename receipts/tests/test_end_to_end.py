"""Ingestion, counting and the rollups end to end, against hand-computed numbers.

Also part of the SQLite run (see docs/architecture.md, SQL policy), where the same numbers
come from the SQLite twins in receipts/sql.py.
"""

from datetime import datetime

import pytest
from django.utils import timezone

from receipts.models import PlaceHour, Purchase, Receipt
from receipts.services.consumption import consume_events
from receipts.services.rollups import rebuild_rollups, rollup_recent_hours
from receipts.tests.factories import receipt_payload
from receipts.tests.test_api_analytics import EXPECTED_SHOP1, EXPECTED_SHOP2, LATE, ON_TIME

pytestmark = pytest.mark.django_db


def test_analytics_numbers_match_end_to_end(analyst_client):
    consume_events(events=ON_TIME)
    rollup_recent_hours(now=datetime(2024, 2, 7, 13, 30, tzinfo=timezone.get_current_timezone()))
    consume_events(events=[LATE, LATE])

    data = analyst_client.get("/api/analytics/").json()
    rebuild_rollups(since=datetime(2024, 2, 1, tzinfo=timezone.get_current_timezone()))

    assert data["results"] == [EXPECTED_SHOP1, EXPECTED_SHOP2]
    assert analyst_client.get("/api/analytics/").json() == data
    assert Purchase.objects.count() == 5


def test_ingestion_accepts_once_end_to_end(pos_client):
    first = pos_client.post("/api/checks/", receipt_payload(), format="json")
    again = pos_client.post("/api/checks/", receipt_payload(), format="json")
    clash = pos_client.post("/api/checks/", receipt_payload(place_id="021"), format="json")
    bulk = pos_client.post(
        "/api/checks/bulk/", [receipt_payload(), receipt_payload("tx-2")], format="json"
    )
    direct = pos_client.post("/api/add_checks/", receipt_payload("tx-3"), format="json")

    assert (first.status_code, again.status_code, clash.status_code) == (201, 200, 409)
    assert [r["status"] for r in bulk.json()["results"]] == ["duplicate", "created"]
    assert direct.status_code == 201
    assert Receipt.objects.count() == 3
    assert PlaceHour.objects.get().purchases == 1  # only add_checks counts in the request
