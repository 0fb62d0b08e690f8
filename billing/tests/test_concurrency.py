"""Real threads, each with its own database connection, on the same run or house."""

import threading

import pytest
from django.db import connection

from billing import runs, services
from billing.models import Charge, RentRun
from housing.tests.factories import global_tariffs, house_with_flats

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(count: int, target) -> list:
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # surfaced below, with the thread's own traceback
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_executions_of_the_same_run_at_once_charge_each_flat_once():
    global_tariffs()
    house = house_with_flats(flats=30, meters_per_flat=2, months=[(2024, 1), (2024, 2)])
    run, _ = services.start_rent_run(house=house, year=2024, month=2)

    in_threads(2, lambda: runs.execute_run(run_id=run.pk, batch_size=3, pause=0.01))

    run.refresh_from_db()
    assert run.status == RentRun.Status.COMPLETED
    assert (run.done_flats, run.total_flats) == (30, 30)
    assert Charge.objects.filter(run=run).count() == 30
    assert run.result == sum(Charge.objects.values_list("total", flat=True))
    assert run.attempts == 2


def test_simultaneous_starts_for_a_house_and_month_make_one_run():
    global_tariffs()
    house = house_with_flats(flats=2, months=[(2024, 1)])

    results = in_threads(
        4, lambda: services.start_rent_run(house=house, year=2024, month=1, recalculate=True)
    )

    assert RentRun.objects.count() == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({run.pk for run, _ in results}) == 1
