"""The compatible payment endpoints and the resource API's runs, charges and statement."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from billing import runs, services
from billing.models import Charge, RentRun
from housing.tests.factories import HouseFactory, StreetFactory, global_tariffs, house_with_flats

pytestmark = pytest.mark.django_db
MONTHS = [(2024, 4), (2024, 5)]


@pytest.fixture
def house():
    global_tariffs(water="40.00", upkeep="20.00")
    return house_with_flats(flats=3, meters_per_flat=2, months=MONTHS)


def calculate(client, house, **extra):
    body = {"home_number": house.number, "street_name": house.street.name, "month": 5, "year": 2024}
    return client.post("/payment/calculate/", {**body, **extra}, format="json")


@pytest.mark.parametrize("path", ["/payment/calculate/", "/payment/calculate"])
def test_calculate_answers_201_with_task_id_of_a_pending_run(path, house, operator_client):
    response = operator_client.post(
        path,
        {"home_number": house.number, "street_name": house.street.name, "month": 5, "year": 2024},
        format="json",
    )
    assert response.status_code == 201, response.content
    run = RentRun.objects.get(pk=response.json()["task_id"])
    assert (run.house_id, run.year, run.month, run.status) == (house.pk, 2024, 5, "PENDING")
    assert list(response.json()) == ["task_id"]


def test_progress_of_a_completed_run_has_the_compatible_shape_and_lines(house, operator_client):
    task_id = calculate(operator_client, house).json()["task_id"]
    runs.execute_run(run_id=task_id)

    response = operator_client.get(f"/payment/progress/{task_id}/")

    assert response.status_code == 200
    body = response.json()
    charges = Charge.objects.filter(run_id=task_id).order_by("flat__number")
    assert body["task_id"] == task_id
    assert body["home"] == {
        "house_number": house.number,
        "street": {"street_name": house.street.name},
    }
    assert (body["month"], body["year"], body["status"]) == (5, 2024, "COMPLETED")
    assert body["result"] == float(sum(c.total for c in charges))
    assert body["progress"] == {"done": 3, "total": 3, "percent": 100.0}
    first = charges[0]
    assert body["flats"][0] == {
        "flat_number": 1,
        "water_consumption": 3.0,  # two meters, 1.5 m3 each
        "water_cost": 120.0,
        "maintenance_cost": float(first.upkeep_cost),
        "total_cost": float(first.total),
        "status": "ok",
    }
    assert first.upkeep_cost == Decimal("622.50")  # 31.125 m2 x 20.00
    assert operator_client.get(f"/payment/progress/{task_id}").status_code == 200


def test_progress_before_the_worker_starts_is_pending_with_no_result(house, operator_client):
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    body = operator_client.get(f"/payment/progress/{run.pk}/").json()
    assert (body["status"], body["result"], body["flats"]) == ("PENDING", None, [])
    assert body["progress"] == {"done": 0, "total": 0, "percent": 0.0}


@pytest.mark.parametrize("task_id", [str(uuid.uuid4()), "not-a-uuid", "123"])
def test_progress_of_unknown_task_is_404(task_id, operator_client):
    response = operator_client.get(f"/payment/progress/{task_id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_calculating_the_same_month_again_returns_the_same_run(house, operator_client):
    first = calculate(operator_client, house).json()["task_id"]
    runs.execute_run(run_id=first)
    again = calculate(operator_client, house)
    assert (again.status_code, again.json()["task_id"]) == (201, first)
    recalc = calculate(operator_client, house, recalculate=True)
    assert recalc.status_code == 201
    assert recalc.json()["task_id"] != first
    assert RentRun.objects.count() == 2


def _next_month():
    day = timezone.localdate().replace(day=28) + timedelta(days=7)
    return day.year, day.month


@pytest.mark.parametrize(
    "change",
    [
        {"home_number": None},
        {"street_name": None},
        {"month": None},
        {"year": None},
        {"home_number": 999},
        {"street_name": "Nowhere"},
        {"month": 13},
        {"month": 0},
        {"year": "last"},
        {"home_number": -1},
        {"next_month": True},
    ],
)
def test_calculate_with_bad_input_is_400_and_starts_nothing(change, house, operator_client):
    body = {"home_number": house.number, "street_name": house.street.name, "month": 5, "year": 2024}
    if change.pop("next_month", False):
        body["year"], body["month"] = _next_month()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = operator_client.post("/payment/calculate/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not RentRun.objects.exists()


def test_calculate_needs_an_operator(house, resident_client):
    assert calculate(resident_client, house).status_code == 403
    assert calculate(APIClient(), house).status_code == 401
    assert not RentRun.objects.exists()


# --- resource API ---------------------------------------------------------------------------


def test_rent_runs_start_list_detail_and_resume(house, operator_client, resident_client):
    response = operator_client.post(
        "/api/v1/rent-runs/", {"house": house.pk, "year": 2024, "month": 5}, format="json"
    )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    assert response.json()["status"] == "PENDING"
    runs.execute_run(run_id=run_id)

    detail = operator_client.get(f"/api/v1/rent-runs/{run_id}/").json()
    assert detail["status"] == "COMPLETED"
    assert detail["result"] == str(RentRun.objects.get(pk=run_id).result)
    assert detail["progress"] == {"done": 3, "total": 3, "percent": 100.0}
    listed = operator_client.get("/api/v1/rent-runs/", {"house": house.pk, "status": "COMPLETED"})
    assert [r["id"] for r in listed.json()["results"]] == [run_id]
    resumed = operator_client.post(f"/api/v1/rent-runs/{run_id}/resume/")
    assert resumed.status_code == 409
    assert resident_client.post(f"/api/v1/rent-runs/{run_id}/resume/").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"house": 0, "year": 2024, "month": 5},
        {"house": "x", "year": 2024, "month": 5},
        {"year": 2024, "month": 5},
        {"house": None, "year": 2024, "month": 13},
        {"house": None, "year": 1999, "month": 1},
    ],
)
def test_rent_run_bad_input_is_400_and_starts_nothing(body, house, operator_client):
    if body.get("house", 1) is None:
        body["house"] = house.pk
    response = operator_client.post("/api/v1/rent-runs/", body, format="json")
    assert response.status_code == 400
    assert not RentRun.objects.exists()


def test_charges_per_house_and_month_with_breakdown(house, operator_client):
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    runs.execute_run(run_id=run.pk)
    run.refresh_from_db()

    summary = operator_client.get(
        f"/api/v1/houses/{house.pk}/charges/", {"year": 2024, "month": 5}
    ).json()
    assert summary["flats"] == 3
    assert summary["total"] == str(run.result)
    assert [line["flat_number"] for line in summary["lines"]] == [1, 2, 3]
    line = summary["lines"][0]
    assert line["water_cost"] == "120.00"
    assert line["water_tariff"] == "40.00"

    listed = operator_client.get("/api/v1/charges/", {"house": house.pk, "month": 5}).json()
    assert listed["count"] == 3
    one = operator_client.get(f"/api/v1/charges/{listed['results'][0]['id']}/")
    assert one.status_code == 200
    bad = operator_client.get(f"/api/v1/houses/{house.pk}/charges/", {"year": 2024, "month": 13})
    assert bad.status_code == 400
    assert operator_client.get("/api/v1/houses/0/charges/?year=2024&month=5").status_code == 404


def test_xlsx_statement_lists_every_flat_and_the_total(house, operator_client):
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    runs.execute_run(run_id=run.pk)
    run.refresh_from_db()

    response = operator_client.get(f"/api/v1/houses/{house.pk}/statement/?year=2024&month=5")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "Flat"
    assert [row[0] for row in rows[2:5]] == [1, 2, 3]
    assert rows[-1][0] == "Total"
    assert Decimal(str(rows[-1][7])) == run.result


def test_charges_read_needs_sign_in(house):
    assert APIClient().get("/api/v1/charges/").status_code == 401
    other = HouseFactory(street=StreetFactory(name="Z"))
    assert APIClient().get(f"/api/v1/houses/{other.pk}/statement/").status_code == 401


def test_calculate_with_an_idempotency_key_replays_the_first_answer(house, operator_client):
    body = {"home_number": house.number, "street_name": house.street.name, "month": 5, "year": 2024}
    first = operator_client.post(
        "/payment/calculate/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = operator_client.post(
        "/payment/calculate/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert RentRun.objects.count() == 1


def test_deleting_a_house_removes_its_runs_and_charges(house, operator_client):
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    runs.execute_run(run_id=run.pk)
    assert Charge.objects.filter(house=house).count() == 3

    response = operator_client.delete(
        "/api/homes/details/",
        QUERY_STRING=f"home_number={house.number}&street_name={house.street.name}",
    )

    assert response.status_code == 204
    assert not Charge.objects.exists()
    assert not RentRun.objects.exists()


def test_money_data_is_403_for_a_signed_in_user_who_is_not_an_operator(house, resident_client):
    # Anyone may register: a fresh account must not read every flat's charges and runs.
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    runs.execute_run(run_id=run.pk)
    charge = Charge.objects.filter(run=run).first()
    month = {"year": 2024, "month": 5}
    reads = {
        "/api/v1/charges/": {},
        f"/api/v1/charges/{charge.pk}/": {},
        "/api/v1/rent-runs/": {},
        f"/api/v1/rent-runs/{run.pk}/": {},
        f"/api/v1/houses/{house.pk}/charges/": month,
        f"/api/v1/houses/{house.pk}/statement/": month,
        f"/payment/progress/{run.pk}/": {},
        f"/payment/progress/{run.pk}": {},
    }

    answers = {path: resident_client.get(path, query) for path, query in reads.items()}

    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(reads, 403)
    assert all(a.json()["code"] == "permission_denied" for a in answers.values())
    assert all(str(run.result) not in a.content.decode() for a in answers.values())


def test_xlsx_statement_holds_no_formula_even_for_a_formula_like_street(house, operator_client):
    house.street.name = '=HYPERLINK("http://evil","x")'
    house.street.save()
    run, _ = services.start_rent_run(house=house, year=2024, month=5)
    runs.execute_run(run_id=run.pk)

    response = operator_client.get(f"/api/v1/houses/{house.pk}/statement/?year=2024&month=5")

    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells
    assert all(cell.data_type in ("s", "n") for cell in cells)


def test_rent_run_refused_by_django_validation_is_stored_under_its_idempotency_key(
    house, operator, operator_client
):
    """A future month is refused by housing.periods (Django's ValidationError, not a DRF
    exception): the 400 is an answer below 500, so the key keeps it and a retry replays it."""
    from core.models import IdempotencyKey

    future = timezone.localdate() + timedelta(days=62)
    body = {"house": house.pk, "year": future.year, "month": future.month}
    first = operator_client.post(
        "/api/v1/rent-runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="future-run"
    )
    assert first.status_code == 400, first.content
    assert first.json()["code"] == "invalid"
    assert first.json()["detail"].startswith("month: ")
    assert "Idempotent-Replayed" not in first

    key = IdempotencyKey.objects.get(user=operator, key="future-run")
    assert (key.response_status, key.response_body) == (400, first.json())

    retry = operator_client.post(
        "/api/v1/rent-runs/", body, format="json", HTTP_IDEMPOTENCY_KEY="future-run"
    )
    assert retry.status_code == 400
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert not RentRun.objects.exists()
