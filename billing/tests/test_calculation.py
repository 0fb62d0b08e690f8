"""The rent batch (billing.sql.write_next_batch) writes the lines by the rules and saves the
run. These tests run on PostgreSQL (the batch statement) and on SQLite (its twin)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import Charge, RentRun, StagedLine
from billing.sql import write_next_batch
from billing.tests.factories import RentRunFactory
from housing.models import Flat
from housing.tests.factories import (
    FlatFactory,
    HouseFactory,
    MeterReadingFactory,
    WaterMeterFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
COLUMNS = ["status", "water_consumption", "water_cost", "upkeep_cost", "total"]
# The city's lines for January 2024 at 41.35 (water) and 27.05 (upkeep), in flat order.
EXPECTED_LINES = [
    ("ok", D("3.335"), D("137.90"), D("1224.15"), D("1362.05")),  # 137.90225, 1224.14775
    ("ok", D("1.500"), D("62.03"), D("1650.19"), D("1712.22")),  # half-up: 62.025
    ("ok", D("4.500"), D("186.08"), D("811.50"), D("997.58")),  # a replaced meter: 2 + 2.5
    ("needs_reading", D("0"), D("0.00"), D("541.00"), D("541.00")),
    ("needs_reading", D("0"), D("0.00"), D("541.00"), D("541.00")),
    ("no_meter", D("0"), D("0.00"), D("2704.97"), D("2704.97")),
]


@pytest.fixture
def city():
    """Every case the rules name, in one house, for January 2024."""
    house = HouseFactory()
    plain = WaterMeterFactory(flat=FlatFactory(house=house, area=D("45.255")))
    MeterReadingFactory(meter=plain, year=2023, month=12, value=D("10.001"))
    MeterReadingFactory(meter=plain, year=2024, month=1, value=D("13.336"))
    two = FlatFactory(house=house, area=D("61.005"))
    for before, after in [("1", "2.5"), ("7", "7")]:
        meter = WaterMeterFactory(flat=two)
        MeterReadingFactory(meter=meter, year=2023, month=12, value=D(before))
        MeterReadingFactory(meter=meter, year=2024, month=1, value=D(after))
    replaced = FlatFactory(house=house, area=D("30"))
    old = WaterMeterFactory(flat=replaced, removed_on=date(2024, 1, 10))
    MeterReadingFactory(meter=old, year=2023, month=12, value=D("500"))
    MeterReadingFactory(meter=old, year=2024, month=1, value=D("502"))
    new = WaterMeterFactory(flat=replaced, installed_on=date(2024, 1, 10), initial_value=D("1"))
    MeterReadingFactory(meter=new, year=2024, month=1, value=D("3.5"))
    gone = WaterMeterFactory(flat=replaced, removed_on=date(2023, 11, 30))  # not counted
    MeterReadingFactory(meter=gone, year=2023, month=10, value=D("1"))
    missing = WaterMeterFactory(flat=FlatFactory(house=house, area=D("20")))
    MeterReadingFactory(meter=missing, year=2023, month=12, value=D("4"))
    gap = WaterMeterFactory(flat=FlatFactory(house=house, area=D("20")))
    MeterReadingFactory(meter=gap, year=2023, month=11, value=D("4"))
    MeterReadingFactory(meter=gap, year=2024, month=1, value=D("6"))
    FlatFactory(house=house, area=D("99.999"))  # no meter
    FlatFactory(house=HouseFactory(), area=D("10"))  # another house: not in the batch
    return house


def claimed_run(house, *, month: int = 1, recalculate: bool = False) -> RentRun:
    """A run claimed in memory only, as billing.runs.execute_run does before the batch."""
    run = RentRunFactory.create(house=house, year=2024, month=month, recalculate=recalculate)
    run.status = RentRun.Status.IN_PROGRESS
    run.attempts = 1
    run.water_tariff, run.upkeep_tariff = D("41.35"), D("27.05")
    run.total_flats = 6
    run.max_flat_id = Flat.objects.filter(house=house).latest("id").id
    run.started_at = timezone.now()
    run.error = "an earlier attempt broke off"
    run.save(update_fields=["error"])
    return run


def saved_fields(run: RentRun) -> list:
    return [getattr(run, field.attname) for field in RentRun._meta.concrete_fields]


@pytest.mark.parametrize("recalculate", [False, True])
def test_batches_write_the_lines_by_the_rules_and_save_the_run(city, recalculate):
    """A short batch completes a plain run but leaves a recalculation to be published."""
    run = claimed_run(city, recalculate=recalculate)

    first = write_next_batch(run=run, limit=4)
    assert saved_fields(RentRun.objects.get(pk=run.pk)) == saved_fields(run)
    assert (first.flats, first.needs_reading, first.total) == (4, 1, D("4612.85"))
    assert (run.status, run.last_flat_id, run.done_flats, run.needs_reading_flats) == (
        RentRun.Status.IN_PROGRESS,
        first.last_flat_id,
        4,
        1,
    )
    assert (run.result, run.error) == (D("4612.85"), "an earlier attempt broke off")

    second = write_next_batch(run=run, limit=4)
    assert saved_fields(RentRun.objects.get(pk=run.pk)) == saved_fields(run)
    assert (second.flats, second.needs_reading, second.total) == (2, 1, D("3245.97"))
    assert (run.done_flats, run.needs_reading_flats, run.result) == (6, 2, D("7858.82"))
    if recalculate:
        assert (run.status, run.error, run.finished_at) == (
            RentRun.Status.IN_PROGRESS,
            "an earlier attempt broke off",
            None,
        )
    else:
        assert (run.status, run.error) == (RentRun.Status.COMPLETED, "")
        assert run.finished_at is not None

    model = StagedLine if recalculate else Charge
    lines = model.objects.filter(run=run).order_by("flat_id")
    assert [line.flat_id for line in lines][-1] == second.last_flat_id == run.last_flat_id
    assert list(lines.values_list(*COLUMNS)) == EXPECTED_LINES
    assert not (Charge if recalculate else StagedLine).objects.exists()


def test_a_second_run_of_the_month_overwrites_the_charges_in_place(city):
    first = claimed_run(city)
    write_next_batch(run=first, limit=100)
    ids = list(Charge.objects.order_by("flat_id").values_list("id", flat=True))
    first.status = RentRun.Status.FAILED
    first.save()

    second = claimed_run(city)
    second.upkeep_tariff = D("1.00")
    write_next_batch(run=second, limit=100)

    charges = Charge.objects.order_by("flat_id")
    assert list(charges.values_list("id", flat=True)) == ids
    assert set(charges.values_list("run_id", flat=True)) == {second.pk}
    assert charges.last().total == D("100.00")  # 99.999 x 1.00, half-up


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements "
            "WHERE name LIKE 'billing_rent_batch_charges_%%'"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_batch_statement_is_prepared_once_per_connection(city):
    totals = []
    for month in [1, 1, 2]:
        if month == 2:
            connection.close()  # a new connection must prepare it again
        run = claimed_run(city, month=month)
        batch = write_next_batch(run=run, limit=100)
        assert len(prepared()) == 1
        totals.append(batch.total)
        assert run.status == RentRun.Status.COMPLETED
        Charge.objects.filter(run=run).delete()
    assert batch.flats == 6
    assert len(set(totals[:2])) == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_batch_statement_prepares_nothing_behind_a_transaction_pooler(city, monkeypatch):
    connection.close()
    connection.ensure_connection()
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    run = claimed_run(city)

    batch = write_next_batch(run=run, limit=100)

    assert prepared() == []
    assert (batch.flats, run.status, run.done_flats) == (6, RentRun.Status.COMPLETED, 6)
    assert Charge.objects.filter(run=run).count() == 6
