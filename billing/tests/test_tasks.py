"""Rent runs executed by a real Celery worker process, including one killed half-way."""

import signal
from datetime import timedelta

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from billing import runs, services
from billing.models import Charge, RentRun
from billing.tasks import enqueue_run
from core.testing import celery_worker, stop_process, wait_until
from housing.tests.factories import global_tariffs, house_with_flats

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MONTHS = [(2024, 1), (2024, 2)]


def operator_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_user(username="op", is_staff=True))
    return client


def run_state(run_id) -> RentRun:
    return RentRun.objects.get(pk=run_id)


def start(client: APIClient, house) -> str:
    response = client.post(
        "/payment/calculate/",
        {"home_number": house.number, "street_name": house.street.name, "year": 2024, "month": 2},
    )
    assert response.status_code == 201, response.content
    return response.json()["task_id"]


def test_progress_endpoint_follows_a_run_executed_by_a_real_worker():
    global_tariffs()
    house = house_with_flats(flats=12, months=MONTHS)
    client = operator_client()
    seen = []
    with celery_worker(RENT_BATCH_SIZE="3", RENT_BATCH_PAUSE_SECONDS="0.3"):
        task_id = start(client, house)

        def completed():
            body = client.get(f"/payment/progress/{task_id}/").json()
            seen.append((body["status"], body["progress"]["done"], len(body["flats"])))
            return body if body["status"] == "COMPLETED" else None

        body = wait_until(completed, timeout=60, interval=0.05)
    assert any(status == "IN_PROGRESS" and 0 < done < 12 for status, done, _ in seen), seen
    assert any(status == "IN_PROGRESS" and lines == done for status, done, lines in seen)
    assert body["progress"] == {"done": 12, "total": 12, "percent": 100.0}
    assert len(body["flats"]) == 12
    assert body["result"] == float(sum(Charge.objects.values_list("total", flat=True)))


def _kill_half_way(task_id, worker) -> RentRun:
    wait_until(lambda: run_state(task_id).done_flats >= 12, timeout=60, interval=0.02)
    stop_process(worker, sig=signal.SIGKILL)
    interrupted = run_state(task_id)
    assert interrupted.status == RentRun.Status.IN_PROGRESS
    assert 12 <= interrupted.done_flats < 40
    assert Charge.objects.filter(run_id=task_id).count() == interrupted.done_flats
    return interrupted


def _assert_charged_once_like_an_uninterrupted_run(task_id, house):
    run = run_state(task_id)
    assert (run.done_flats, run.total_flats) == (40, 40)
    charges = Charge.objects.filter(house=house, year=2024, month=2)
    assert charges.count() == 40
    assert charges.values("flat_id").distinct().count() == 40
    # The same month computed again, in one go, gives the same sum.
    reference, _ = services.start_rent_run(house=house, year=2024, month=2, recalculate=True)
    runs.execute_run(run_id=reference.pk, batch_size=1000, pause=0)
    reference.refresh_from_db()
    assert reference.result == run.result
    assert Charge.objects.filter(house=house, year=2024, month=2).count() == 40


SLOW_BATCHES = {"RENT_BATCH_SIZE": "4", "RENT_BATCH_PAUSE_SECONDS": "0.25"}


def test_run_killed_with_sigkill_completes_after_restart_through_the_api():
    global_tariffs()
    house = house_with_flats(flats=40, meters_per_flat=2, months=MONTHS)
    client = operator_client()
    with celery_worker(**SLOW_BATCHES) as worker:
        task_id = start(client, house)
        _kill_half_way(task_id, worker)

    with celery_worker(purge=False, RENT_BATCH_SIZE="4"):
        response = client.post(f"/api/v1/rent-runs/{task_id}/resume/")
        assert response.status_code == 200, response.content
        wait_until(lambda: run_state(task_id).status == RentRun.Status.COMPLETED, timeout=60)

    assert run_state(task_id).attempts == 2
    _assert_charged_once_like_an_uninterrupted_run(task_id, house)


def test_run_killed_with_sigkill_is_picked_up_by_resume_stalled_runs():
    global_tariffs()
    house = house_with_flats(flats=40, meters_per_flat=2, months=MONTHS)
    client = operator_client()
    with celery_worker(**SLOW_BATCHES) as worker:
        task_id = start(client, house)
        _kill_half_way(task_id, worker)

    with celery_worker(purge=False, RENT_BATCH_SIZE="4"):
        with transaction.atomic():
            resumed = runs.resume_stalled_runs(enqueue=enqueue_run, older_than=timedelta(0))
        assert [str(run_id) for run_id in resumed] == [task_id]
        wait_until(lambda: run_state(task_id).status == RentRun.Status.COMPLETED, timeout=60)

    _assert_charged_once_like_an_uninterrupted_run(task_id, house)
