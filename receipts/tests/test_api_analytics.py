"""Analytics numbers on a hand-computed set: two hours, two places, three categories, a late one."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from receipts.services.consumption import consume_events
from receipts.services.rollups import rebuild_rollups, rollup_recent_hours
from receipts.tests.factories import UserFactory, receipt_payload

pytestmark = pytest.mark.django_db

SHOP1 = {"place_id": "011", "place_name": "Магазин №1"}
SHOP2 = {"place_id": "012", "place_name": "Магазин №2"}

ON_TIME = [
    receipt_payload(
        "r1",
        items=[(2, "10.00", "groceries"), (1, "5.00", "electronics")],
        timestamp="2024-02-07T12:10:00",
        nds_amount="4.17",
        tips_amount="1.00",
        **SHOP1,
    ),
    receipt_payload(
        "r2",
        items=[(1, "30.00", "groceries")],
        timestamp="2024-02-07T12:50:00",
        nds_amount="5.00",
        tips_amount="0",
        **SHOP1,
    ),
    receipt_payload(  # 10:05 UTC is 13:05 in Moscow: the second hour
        "r3",
        items=[(3, "2.50", "cafe")],
        timestamp="2024-02-07T10:05:00Z",
        nds_amount="1.25",
        tips_amount="2.00",
        **SHOP1,
    ),
    receipt_payload(
        "r4",
        items=[(1, "100.00", "electronics"), (2, "1.00", "cafe")],
        timestamp="2024-02-07T12:30:00+03:00",
        nds_amount="17.00",
        tips_amount="0",
        **SHOP2,
    ),
]
LATE = receipt_payload(  # belongs to 12:00, arrives after the 13:00 rollup ran
    "r5",
    items=[(1, "15.00", "electronics")],
    timestamp="2024-02-07T12:59:59",
    nds_amount="2.50",
    tips_amount="0.50",
    **SHOP1,
)

EXPECTED_SHOP1 = {
    "place_id": "011",
    "place_name": "Магазин №1",
    "total_purchases": 4,
    "total_amount": "77.50",
    "average_receipt": "19.38",  # 77.50 / 4 = 19.375, half-up
    "taxes_amount": {"total_nds": "12.92", "total_tips": "3.50"},
    "category_analytics": {
        "cafe": {"total_spent": "7.50", "average_receipt": "7.50"},
        "electronics": {"total_spent": "20.00", "average_receipt": "10.00"},
        "groceries": {"total_spent": "50.00", "average_receipt": "25.00"},
    },
    "hourly": [
        {
            "hour": "2024-02-07T12:00:00+03:00",
            "total_purchases": 3,
            "total_amount": "70.00",
            "average_receipt": "23.33",
            "total_nds": "11.67",
            "total_tips": "1.50",
        },
        {
            "hour": "2024-02-07T13:00:00+03:00",
            "total_purchases": 1,
            "total_amount": "7.50",
            "average_receipt": "7.50",
            "total_nds": "1.25",
            "total_tips": "2.00",
        },
    ],
}
EXPECTED_SHOP2 = {
    "place_id": "012",
    "place_name": "Магазин №2",
    "total_purchases": 1,
    "total_amount": "102.00",
    "average_receipt": "102.00",
    "taxes_amount": {"total_nds": "17.00", "total_tips": "0.00"},
    "category_analytics": {
        "cafe": {"total_spent": "2.00", "average_receipt": "2.00"},
        "electronics": {"total_spent": "100.00", "average_receipt": "100.00"},
    },
    "hourly": [
        {
            "hour": "2024-02-07T12:00:00+03:00",
            "total_purchases": 1,
            "total_amount": "102.00",
            "average_receipt": "102.00",
            "total_nds": "17.00",
            "total_tips": "0.00",
        }
    ],
}


@pytest.fixture
def counted():
    consume_events(events=ON_TIME)
    rollup_recent_hours(now=datetime(2024, 2, 7, 13, 30, tzinfo=timezone.get_current_timezone()))
    consume_events(events=[LATE])


def test_analytics_of_every_place_match_the_hand_computed_numbers(analyst_client, counted):
    response = analyst_client.get("/api/analytics/")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert data["results"] == [EXPECTED_SHOP1, EXPECTED_SHOP2]


def test_rebuild_gives_the_same_numbers_as_counting_as_they_come(analyst_client, counted):
    before = analyst_client.get("/api/analytics/").json()

    rebuild_rollups(since=datetime(2024, 2, 1, tzinfo=timezone.get_current_timezone()))
    # Reruns are harmless.
    rebuild_rollups(since=datetime(2024, 2, 1, tzinfo=timezone.get_current_timezone()))

    assert analyst_client.get("/api/analytics/").json() == before


def test_analytics_of_one_place(analyst_client, counted):
    response = analyst_client.get("/api/analytics/011/")

    assert response.status_code == 200
    assert response.json() == EXPECTED_SHOP1
    assert analyst_client.get("/api/analytics/012").json() == EXPECTED_SHOP2


def test_from_and_to_select_whole_hours(analyst_client, counted):
    second_hour = analyst_client.get("/api/analytics/011/?from=2024-02-07T13:00").json()
    first_hour = analyst_client.get(
        "/api/analytics/011/", {"from": "2024-02-07", "to": "2024-02-07T13:00:00+03:00"}
    ).json()

    assert second_hour["total_purchases"] == 1
    assert second_hour["category_analytics"] == {
        "cafe": {"total_spent": "7.50", "average_receipt": "7.50"}
    }
    assert first_hour["total_purchases"] == 3
    assert first_hour["taxes_amount"] == {"total_nds": "11.67", "total_tips": "1.50"}


@pytest.mark.parametrize(
    "query", ["from=garbage", "from=2024-02-08&to=2024-02-07", "to=2024-13-01"]
)
def test_bad_range_is_a_400(analyst_client, counted, query):
    response = analyst_client.get(f"/api/analytics/?{query}")

    assert response.status_code == 400


def test_unknown_place_is_404(analyst_client, counted):
    response = analyst_client.get("/api/analytics/999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_analytics_query_count_does_not_grow_with_places(analyst_client, counted):
    with CaptureQueriesContext(connection) as two_places:
        analyst_client.get("/api/analytics/")
    consume_events(
        events=[
            receipt_payload(f"x{n}", place_id=f"1{n}", place_name=f"Shop {n}") for n in range(5)
        ]
    )
    with CaptureQueriesContext(connection) as seven_places:
        response = analyst_client.get("/api/analytics/")

    assert response.json()["count"] == 7
    # page count, places, hourly rows, category sums; the token on the first request only
    # (the next finds it in the auth cache, core/auth.py)
    assert len(two_places) - 1 == len(seven_places) == 4


def test_places_are_listed_for_any_signed_in_user(user_client, counted):
    response = user_client.get("/api/places/")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [(p["place_id"], p["place_name"]) for p in data["results"]] == [
        ("011", "Магазин №1"),
        ("012", "Магазин №2"),
    ]


def test_a_new_place_name_renames_the_place(user_client, counted):
    consume_events(events=[receipt_payload("r9", place_id="012", place_name="Магазин №2 (new)")])

    names = [p["place_name"] for p in user_client.get("/api/places").json()["results"]]

    assert names == ["Магазин №1", "Магазин №2 (new)"]


def test_chart_is_an_svg_of_the_last_24_hours(analyst_client):
    consume_events(events=[receipt_payload("now", timestamp=timezone.now().isoformat())])

    response = analyst_client.get("/api/analytics/011/chart.svg")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    body = response.content.decode()
    assert body.startswith("<svg")
    assert body.count("<rect") == 25  # background + 24 bars
    assert "1 purchases, 27.47" in body


ANALYST_ONLY = ["/api/analytics/", "/api/analytics/011/", "/api/analytics/011/chart.svg"]


@pytest.mark.parametrize("path", ANALYST_ONLY)
def test_analytics_are_refused_to_other_users_with_403(user_client, counted, path):
    assert user_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ANALYST_ONLY)
def test_analytics_are_open_to_superusers(counted, path, client_for):
    client = client_for(UserFactory(is_superuser=True, is_staff=True))

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [*ANALYST_ONLY, "/api/places/"])
def test_reads_need_a_signed_in_user(counted, path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response.has_header("WWW-Authenticate")


@pytest.mark.parametrize("path", ["/api/checks/", "/api/checks/bulk/", "/api/add_checks/"])
def test_posting_needs_the_post_receipts_permission(
    user_client, analyst_client, read_journal, path
):
    from receipts.models import Receipt

    anonymous = APIClient().post(path, receipt_payload(), format="json")
    user = user_client.post(path, receipt_payload(), format="json")
    analyst = analyst_client.post(path, receipt_payload(), format="json")

    assert anonymous.status_code == 401
    assert anonymous.has_header("WWW-Authenticate")
    assert user.status_code == analyst.status_code == 403
    assert not Receipt.objects.exists()
    assert [line["outcome"] for line in read_journal()] == [
        "unauthenticated",
        "forbidden",
        "forbidden",
    ]


def test_superuser_may_post_receipts(client_for):
    client = client_for(UserFactory(is_superuser=True))

    assert client.post("/api/checks/", receipt_payload(), format="json").status_code == 201


@pytest.mark.parametrize("accept", ["image/svg+xml", "*/*", "image/*", "image/svg+xml, */*;q=0.8"])
def test_chart_honours_the_accept_header_it_documents(analyst_client, counted, accept):
    response = analyst_client.get("/api/analytics/011/chart.svg", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response.content.startswith(b"<svg")


def test_chart_errors_stay_json_when_the_client_accepts_svg(analyst_client):
    response = analyst_client.get("/api/analytics/nope/chart.svg", HTTP_ACCEPT="image/svg+xml")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    ["from=0001-01-01", "to=0001-01-01", "from=0001-01-01T00:00:00%2B14:00", "to=9999-12-31"],
)
def test_dates_outside_the_calendar_the_server_can_convert_are_a_400(
    analyst_client, counted, query
):
    for path in ("/api/analytics/", "/api/analytics/011/"):
        response = analyst_client.get(f"{path}?{query}")

        assert response.status_code == 400, response.content
        body = response.json()
        assert body["code"] in {"out_of_range", "overflow"}
        assert body["detail"]
        assert set(body) & {"from", "to"}
