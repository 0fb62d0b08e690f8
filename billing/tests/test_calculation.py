"""The set-based SQL statement and the portable (SQLite) implementation agree line by line."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.calculation import calculate_batch, calculate_batch_portable, calculate_next_batch
from billing.models import Charge, RentRun, StagedLine
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
COLUMNS = ["flat_id", "status", "area", "water_consumption", "water_cost", "upkeep_cost", "total"]


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


@pytest.mark.parametrize("staged", [False, True])
def test_sql_and_portable_batches_write_the_same_lines(city, staged):
    model = StagedLine if staged else Charge
    results = {}
    for name, calculate in [("sql", calculate_batch), ("portable", calculate_batch_portable)]:
        run = RentRunFactory(house=city, year=2024, month=1, status=RentRun.Status.IN_PROGRESS)
        max_id = Flat.objects.filter(house=city).latest("id").id
        kwargs = {
            "run_id": run.pk,
            "house_id": city.pk,
            "year": 2024,
            "month": 1,
            "water_tariff": D("41.35"),
            "upkeep_tariff": D("27.05"),
            "max_id": max_id,
        }
        first = calculate(staged=staged, after_id=0, limit=4, **kwargs)
        second = calculate(staged=staged, after_id=first.last_flat_id, limit=4, **kwargs)
        rows = list(model.objects.filter(run=run).order_by("flat_id").values_list(*COLUMNS))
        results[name] = (first, second, rows)
        run.delete()
        model.objects.all().delete()

    assert results["sql"] == results["portable"]
    first, second, rows = results["sql"]
    assert (first.flats, second.flats) == (4, 2)
    assert second.last_flat_id == rows[-1][0]
    by_status = [row[1] for row in rows]
    assert by_status == ["ok", "ok", "ok", "needs_reading", "needs_reading", "no_meter"]
    consumption = [row[3] for row in rows[:3]]
    assert consumption == [D("3.335"), D("1.500"), D("4.500")]
    assert first.total + second.total == sum(row[6] for row in rows)
    assert first.needs_reading + second.needs_reading == 2


@pytest.mark.parametrize("recalculate", [False, True])
def test_next_batch_saves_the_same_run_in_sql_and_portably(city, recalculate, monkeypatch):
    """The batch statement saves the claimed run and its progress; the portable path saves the
    same, and a short batch completes a plain run but leaves a recalculation to be published."""
    model = StagedLine if recalculate else Charge
    results = {}
    for name in ["sql", "portable"]:
        if name == "portable":
            monkeypatch.setattr(connection, "vendor", "sqlite")
        run = RentRunFactory(house=city, year=2024, month=1, recalculate=recalculate)
        # Claimed in memory only, as execute_run does before the batch.
        run.status = RentRun.Status.IN_PROGRESS
        run.attempts = 1
        run.water_tariff, run.upkeep_tariff = D("41.35"), D("27.05")
        run.total_flats = 6
        run.max_flat_id = Flat.objects.filter(house=city).latest("id").id
        run.started_at = timezone.now()
        run.error = "an earlier attempt broke off"
        run.save(update_fields=["error"])
        states = []
        for _ in range(2):
            batch = calculate_next_batch(run=run, limit=4)
            saved = RentRun.objects.get(pk=run.pk)
            assert [getattr(saved, f.attname) for f in RentRun._meta.concrete_fields] == [
                getattr(run, f.attname) for f in RentRun._meta.concrete_fields
            ]
            states.append(
                (
                    batch,
                    saved.status,
                    saved.attempts,
                    saved.water_tariff,
                    saved.total_flats,
                    saved.last_flat_id,
                    saved.done_flats,
                    saved.needs_reading_flats,
                    saved.result,
                    saved.error,
                    saved.started_at is not None,
                    saved.finished_at is not None,
                )
            )
        lines = sum(model.objects.filter(run=run).values_list("total", flat=True))
        results[name] = (states, lines)
        run.delete()
        model.objects.all().delete()
        monkeypatch.undo()

    assert results["sql"] == results["portable"]
    (first, second), lines = results["sql"]
    assert first[0].flats == 4
    assert first[1] == RentRun.Status.IN_PROGRESS
    assert first[5:10] == (
        first[0].last_flat_id,
        4,
        1,
        first[0].total,
        "an earlier attempt broke off",
    )
    assert second[0].flats == 2
    assert second[6:9] == (6, 2, lines)
    if recalculate:
        assert (second[1], second[9], second[11]) == (
            RentRun.Status.IN_PROGRESS,
            "an earlier attempt broke off",
            False,
        )
    else:
        assert (second[1], second[9], second[11]) == (RentRun.Status.COMPLETED, "", True)


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements "
            "WHERE name LIKE 'billing_rent_batch_charges_%%'"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_next_batch_prepares_its_statement_once_per_connection(city):
    totals = []
    for month in [1, 1, 2]:
        if month == 2:
            connection.close()  # a new connection must prepare it again
        run = RentRunFactory(house=city, year=2024, month=month, status=RentRun.Status.IN_PROGRESS)
        run.water_tariff, run.upkeep_tariff = D("41.35"), D("27.05")
        run.max_flat_id = Flat.objects.filter(house=city).latest("id").id
        batch = calculate_next_batch(run=run, limit=100)
        assert len(prepared()) == 1
        totals.append(batch.total)
        assert run.status == RentRun.Status.COMPLETED
        Charge.objects.filter(run=run).delete()
    assert batch.flats == 6
    assert len(set(totals[:2])) == 1


@pytest.mark.django_db(transaction=True)
def test_next_batch_prepares_nothing_behind_a_transaction_pooler(city, monkeypatch):
    connection.close()
    connection.ensure_connection()
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    run = RentRunFactory(house=city, year=2024, month=1, status=RentRun.Status.IN_PROGRESS)
    run.water_tariff, run.upkeep_tariff = D("41.35"), D("27.05")
    run.max_flat_id = Flat.objects.filter(house=city).latest("id").id

    batch = calculate_next_batch(run=run, limit=100)

    assert prepared() == []
    assert (batch.flats, run.status, run.done_flats) == (6, RentRun.Status.COMPLETED, 6)
    assert Charge.objects.filter(run=run).count() == 6
