"""Imports executed by a real Celery worker process, including one killed half-way."""

import signal
from datetime import timedelta

import pytest
from django.db import transaction

from core.testing import celery_worker, stop_process, wait_until
from housing.models import MeterReading
from housing.tests.factories import house_with_flats
from imports import tasks
from imports.models import ImportJob, ImportKey
from imports.tests.conftest import upload, xlsx_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FLATS = 60


def job_state(job_id) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def february_file(house) -> bytes:
    rows: list[list] = [["Улица", "Дом", "Квартира", "Год", "Месяц", "Показание"]]
    rows += [[house.street.name, house.number, n, 2024, 2, 100 + n] for n in range(1, FLATS + 1)]
    return xlsx_bytes(rows)


def worker_env(settings, **extra) -> dict:
    return extra


@pytest.mark.parametrize("mode", ["all_or_nothing", "valid_rows"])
def test_import_killed_with_sigkill_resumes_and_imports_each_row_once(
    operator_client, settings, mode
):
    house = house_with_flats(flats=FLATS, months=[(2024, 1)])
    slow = worker_env(settings, IMPORT_BATCH_SIZE="5", IMPORT_BATCH_PAUSE_SECONDS="0.25")
    with celery_worker(**slow) as worker:
        response = upload(operator_client, february_file(house), kind="readings", mode=mode)
        assert response.status_code == 202, response.content
        job_id = response.json()["id"]

        def half_written():
            job = job_state(job_id)
            return job.phase == ImportJob.Phase.WRITE and job.cursor >= 15

        wait_until(half_written, timeout=90, interval=0.02)
        stop_process(worker, sig=signal.SIGKILL)

    interrupted = job_state(job_id)
    assert interrupted.status == ImportJob.Status.IN_PROGRESS
    assert 15 <= interrupted.cursor < FLATS
    written = MeterReading.objects.filter(year=2024, month=2).count()
    # Exactly the committed batches' rows are in, and counted.
    assert written == interrupted.cursor == interrupted.created

    with celery_worker(purge=False, **worker_env(settings, IMPORT_BATCH_SIZE="5")):
        with transaction.atomic():
            resumed = tasks.resume_stalled(older_than=timedelta(0))
        assert [str(job_id_) for job_id_ in resumed] == [job_id]
        wait_until(lambda: job_state(job_id).status == ImportJob.Status.COMPLETED, timeout=60)

    job = job_state(job_id)
    assert job.attempts == 2
    assert (job.created, job.updated, job.unchanged, job.failed) == (FLATS, 0, 0, 0)
    readings = MeterReading.objects.filter(year=2024, month=2)
    assert readings.count() == FLATS
    assert sorted(readings.values_list("value", flat=True)) == list(range(101, 101 + FLATS))
    assert not ImportKey.objects.filter(job_id=job_id).exists()


def test_progress_endpoint_follows_an_import_executed_by_a_real_worker(operator_client, settings):
    house = house_with_flats(flats=FLATS, months=[(2024, 1)])
    seen = []
    env = worker_env(settings, IMPORT_BATCH_SIZE="10", IMPORT_BATCH_PAUSE_SECONDS="0.2")
    with celery_worker(**env):
        response = upload(operator_client, february_file(house), kind="readings", dry_run=True)
        job_id = response.json()["id"]

        def completed():
            body = operator_client.get(f"/api/v1/imports/{job_id}/").json()
            seen.append((body["status"], body["progress"]["done"]))
            return body if body["status"] == "COMPLETED" else None

        body = wait_until(completed, timeout=60, interval=0.05)
    assert any(status == "IN_PROGRESS" and 0 < done < FLATS for status, done in seen), seen
    assert body["progress"] == {"done": FLATS, "total": FLATS, "percent": 100.0}
    assert body["counts"]["created"] == FLATS
    assert not MeterReading.objects.filter(month=2).exists()
