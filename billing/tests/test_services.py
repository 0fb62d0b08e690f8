from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import runs, selectors, services, sql
from billing.errors import RunCompleted
from billing.models import Charge, LineStatus, RentRun, StagedLine
from billing.tasks import enqueue_run
from billing.tests.factories import RentRunFactory
from housing import services as housing_services
from housing.models import MeterReading, Tariff
from housing.tests.factories import (
    FlatFactory,
    HouseFactory,
    MeterReadingFactory,
    TariffFactory,
    WaterMeterFactory,
    global_tariffs,
    house_with_flats,
)

pytestmark = pytest.mark.django_db
D = Decimal


def run_month(house, year, month, **kwargs) -> RentRun:
    run, _ = services.start_rent_run(house=house, year=year, month=month, **kwargs)
    runs.execute_run(run_id=run.pk)
    run.refresh_from_db()
    return run


def line(run, flat):
    return next(x for x in selectors.run_lines(run=run) if x.flat_id == flat.pk)


def test_water_is_tariff_times_consumption_and_upkeep_tariff_times_area():
    global_tariffs(water="40.00", upkeep="20.00")
    flat = FlatFactory(area=D("50.000"))
    meter = WaterMeterFactory(flat=flat)
    MeterReadingFactory(meter=meter, year=2024, month=4, value=D("100.000"))
    MeterReadingFactory(meter=meter, year=2024, month=5, value=D("112.500"))

    run = run_month(flat.house, 2024, 5)

    assert run.status == RentRun.Status.COMPLETED
    charge = Charge.objects.get(flat=flat, year=2024, month=5)
    assert charge.water_consumption == D("12.500")
    assert charge.water_cost == D("500.00")
    assert charge.upkeep_cost == D("1000.00")
    assert charge.total == D("1500.00")
    assert charge.status == LineStatus.OK
    assert run.result == D("1500.00")
    assert (run.done_flats, run.total_flats, run.percent) == (1, 1, 100.0)


def test_january_consumption_uses_december_of_the_year_before():
    global_tariffs(water="10.00", upkeep="0.00")
    meter = WaterMeterFactory()
    MeterReadingFactory(meter=meter, year=2023, month=12, value=D("7.000"))
    MeterReadingFactory(meter=meter, year=2024, month=1, value=D("10.250"))

    run_month(meter.flat.house, 2024, 1)

    charge = Charge.objects.get(flat=meter.flat)
    assert charge.water_consumption == D("3.250")
    assert charge.water_cost == D("32.50")


def test_consumption_sums_every_meter_of_the_flat():
    global_tariffs(water="10.00", upkeep="0.00")
    flat = FlatFactory()
    for before, after in [("1", "3"), ("5", "10.5")]:
        meter = WaterMeterFactory(flat=flat)
        MeterReadingFactory(meter=meter, year=2024, month=2, value=D(before))
        MeterReadingFactory(meter=meter, year=2024, month=3, value=D(after))

    run_month(flat.house, 2024, 3)

    assert Charge.objects.get(flat=flat).water_consumption == D("7.500")


def test_replaced_meter_counts_old_meter_until_removal_and_new_one_from_its_initial_value():
    global_tariffs(water="10.00", upkeep="0.00")
    old = WaterMeterFactory()
    MeterReadingFactory(meter=old, year=2024, month=5, value=D("900.000"))
    new = housing_services.replace_meter(
        meter=old,
        removed_on=date(2024, 6, 15),
        final_value=D("904.000"),
        new_serial="NEW-1",
        new_initial_value=D("0.500"),
    )
    housing_services.record_readings(entries=[(new, D("2.500"))], year=2024, month=6)
    # The new meter's value is far below the old one's: allowed, it is another meter.
    run = run_month(old.flat.house, 2024, 6)

    charge = Charge.objects.get(flat=old.flat)
    assert charge.water_consumption == D("6.000")  # (904 - 900) + (2.5 - 0.5)
    assert charge.status == LineStatus.OK
    # July: only the new meter is installed.
    housing_services.record_readings(entries=[(new, D("4.000"))], year=2024, month=7)
    run_month(old.flat.house, 2024, 7)
    assert Charge.objects.get(flat=old.flat, month=7).water_consumption == D("1.500")
    assert run.result == D("60.00")


def test_missing_reading_flags_the_line_and_charges_no_water_but_the_run_completes():
    global_tariffs(water="40.00", upkeep="20.00")
    house = HouseFactory()
    read = WaterMeterFactory(flat=FlatFactory(house=house, area=D("10")))
    MeterReadingFactory(meter=read, year=2024, month=1, value=D("1"))
    MeterReadingFactory(meter=read, year=2024, month=2, value=D("2"))
    unread = WaterMeterFactory(flat=FlatFactory(house=house, area=D("10")))
    MeterReadingFactory(meter=unread, year=2024, month=1, value=D("1"))
    gap = WaterMeterFactory(flat=FlatFactory(house=house, area=D("10")))
    MeterReadingFactory(meter=gap, year=2023, month=12, value=D("1"))  # January missing
    MeterReadingFactory(meter=gap, year=2024, month=2, value=D("5"))
    no_meter = FlatFactory(house=house, area=D("10"))

    run = run_month(house, 2024, 2)

    assert run.status == RentRun.Status.COMPLETED
    statuses = {c.flat_id: (c.status, c.water_cost, c.total) for c in Charge.objects.all()}
    assert statuses[read.flat_id] == (LineStatus.OK, D("40.00"), D("240.00"))
    assert statuses[unread.flat_id] == (LineStatus.NEEDS_READING, D("0.00"), D("200.00"))
    assert statuses[gap.flat_id] == (LineStatus.NEEDS_READING, D("0.00"), D("200.00"))
    assert statuses[no_meter.pk] == (LineStatus.NO_METER, D("0.00"), D("200.00"))
    assert run.needs_reading_flats == 2
    assert run.result == D("840.00")


def test_house_tariff_beats_global_and_each_month_uses_the_tariff_in_force_on_its_first_day():
    house = HouseFactory()
    other = HouseFactory()
    global_tariffs(water="10.00", upkeep="1.00")
    TariffFactory(kind=Tariff.Kind.UPKEEP, price=D("3.00"), house=house)
    TariffFactory(kind=Tariff.Kind.UPKEEP, price=D("2.00"), valid_from=date(2024, 3, 1))
    TariffFactory(kind=Tariff.Kind.UPKEEP, price=D("9.00"), valid_from=date(2024, 3, 2))
    for h in (house, other):
        FlatFactory(house=h, area=D("100"))

    assert run_month(house, 2024, 3).result == D("300.00")
    assert run_month(other, 2024, 2).result == D("100.00")
    assert run_month(other, 2024, 3).result == D("200.00")


def test_house_month_facts_prefer_the_house_tariff_in_force_on_the_first_day():
    house = HouseFactory()
    FlatFactory.create_batch(3, house=house)
    TariffFactory(kind=Tariff.Kind.WATER, price=D("1.00"), valid_from=date(2020, 1, 1))
    TariffFactory(kind=Tariff.Kind.WATER, price=D("2.00"), valid_from=date(2024, 2, 1), house=house)
    TariffFactory(kind=Tariff.Kind.WATER, price=D("3.00"), valid_from=date(2024, 3, 2), house=house)

    jan = sql.house_month_facts(house_id=house.pk, year=2024, month=1)
    mar = sql.house_month_facts(house_id=house.pk, year=2024, month=3)

    assert (jan["water"], jan["upkeep"]) == (D("1.00"), None)
    assert mar["water"] == D("2.00")
    assert mar["flats_count"] == 3


def test_run_fixes_the_tariffs_and_work_list_of_house_month_facts_when_it_starts():
    house = HouseFactory()
    global_tariffs(water="10.00", upkeep="1.00")
    TariffFactory(kind=Tariff.Kind.WATER, price=D("4.00"), house=house, valid_from=date(2024, 3, 1))
    flats = FlatFactory.create_batch(3, house=house)
    FlatFactory(house=HouseFactory())  # a later flat of another house: not in the work list
    facts = sql.house_month_facts(house_id=house.pk, year=2024, month=3)

    run = run_month(house, 2024, 3)

    assert (run.water_tariff, run.upkeep_tariff) == (D("4.00"), D("1.00"))
    assert (facts["water"], facts["upkeep"]) == (run.water_tariff, run.upkeep_tariff)
    assert run.total_flats == facts["flats_count"] == 3
    assert run.max_flat_id == facts["max_flat_id"] == flats[-1].pk
    assert run.status == RentRun.Status.COMPLETED
    assert run.done_flats == 3


def test_amounts_round_half_up_to_kopecks_once_per_component():
    global_tariffs(water="1.00", upkeep="1.00")
    flat = FlatFactory(area=D("10.005"))
    meter = WaterMeterFactory(flat=flat)
    MeterReadingFactory(meter=meter, year=2024, month=1, value=D("1.000"))
    MeterReadingFactory(meter=meter, year=2024, month=2, value=D("1.005"))

    run_month(flat.house, 2024, 2)

    charge = Charge.objects.get(flat=flat)
    assert (charge.water_cost, charge.upkeep_cost, charge.total) == (
        D("0.01"),
        D("10.01"),
        D("10.02"),
    )


def test_month_without_tariff_fails_the_run_with_a_clear_error_and_charges_nothing():
    TariffFactory(kind=Tariff.Kind.WATER)
    flat = FlatFactory()

    run = run_month(flat.house, 2024, 1)

    assert run.status == RentRun.Status.FAILED
    assert "upkeep" in run.error
    assert not Charge.objects.exists()


def test_future_month_and_month_13_are_refused_without_creating_a_run():
    house = HouseFactory()
    next_month = timezone.localdate().replace(day=28) + timedelta(days=7)
    with pytest.raises(ValidationError):
        services.start_rent_run(house=house, year=next_month.year, month=next_month.month)
    with pytest.raises(ValidationError):
        services.start_rent_run(house=house, year=2024, month=13)
    assert not RentRun.objects.exists()


def test_batches_give_the_same_charges_as_one_pass():
    global_tariffs()
    months = [(2024, 1), (2024, 2)]
    house = house_with_flats(flats=7, meters_per_flat=2, months=months)
    run, _ = services.start_rent_run(house=house, year=2024, month=2)
    runs.execute_run(run_id=run.pk, batch_size=3)
    run.refresh_from_db()
    in_batches = dict(Charge.objects.values_list("flat_id", "total"))

    again = run_month(house, 2024, 2, recalculate=True)

    assert run.done_flats == run.total_flats == 7
    assert run.last_flat_id == max(in_batches)
    assert dict(Charge.objects.values_list("flat_id", "total")) == in_batches
    assert again.result == run.result == sum(in_batches.values())


def test_executing_a_run_twice_charges_each_flat_once():
    global_tariffs()
    house = house_with_flats(flats=5, months=[(2024, 1), (2024, 2)])
    run = run_month(house, 2024, 2)

    runs.execute_run(run_id=run.pk)
    runs.execute_run(run_id=run.pk)

    run.refresh_from_db()
    assert Charge.objects.count() == 5
    assert run.result == sum(Charge.objects.values_list("total", flat=True))


class WorkerKilled(Exception):
    pass


def die(seconds):
    raise WorkerKilled


def test_run_interrupted_after_a_batch_resumes_from_its_cursor(monkeypatch):
    global_tariffs()
    house = house_with_flats(flats=6, months=[(2024, 1), (2024, 2)])
    run, _ = services.start_rent_run(house=house, year=2024, month=2)

    # The pause between batches is the first point after a commit: "die" there.
    monkeypatch.setattr(runs.time, "sleep", die)
    with pytest.raises(WorkerKilled):
        runs.execute_run(run_id=run.pk, batch_size=2, pause=1)
    run.refresh_from_db()
    assert (run.status, run.done_flats, run.total_flats) == (RentRun.Status.IN_PROGRESS, 2, 6)
    first_batch = dict(Charge.objects.values_list("flat_id", "id"))
    assert len(first_batch) == 2

    monkeypatch.undo()
    runs.execute_run(run_id=run.pk, batch_size=2, pause=0)

    run.refresh_from_db()
    assert (run.status, run.done_flats, run.attempts) == (RentRun.Status.COMPLETED, 6, 2)
    assert Charge.objects.filter(run=run).count() == 6
    # The first batch was not written again.
    assert {k: v for k, v in Charge.objects.values_list("flat_id", "id") if k in first_batch} == (
        first_batch
    )
    assert run.result == sum(Charge.objects.values_list("total", flat=True))


def test_start_returns_the_completed_run_unless_recalculation_is_asked():
    global_tariffs(water="10.00", upkeep="0.00")
    meter = WaterMeterFactory()
    MeterReadingFactory(meter=meter, year=2024, month=1, value=D("1"))
    reading = MeterReadingFactory(meter=meter, year=2024, month=2, value=D("2"))
    first = run_month(meter.flat.house, 2024, 2)

    same, created = services.start_rent_run(house=meter.flat.house, year=2024, month=2)
    assert (same.pk, created) == (first.pk, False)

    housing_services.update_reading(reading=reading, value=D("4"))
    second = run_month(meter.flat.house, 2024, 2, recalculate=True)

    assert second.pk != first.pk
    assert second.recalculate
    charge = Charge.objects.get(flat=meter.flat)
    assert (charge.run_id, charge.water_cost) == (second.pk, D("30.00"))
    assert second.result == D("30.00")
    assert not StagedLine.objects.exists()


def test_recalculation_keeps_the_old_charges_until_it_completes(monkeypatch):
    global_tariffs()
    house = house_with_flats(flats=4, months=[(2024, 1), (2024, 2)])
    first = run_month(house, 2024, 2)
    before = dict(Charge.objects.values_list("flat_id", "total"))
    MeterReading.objects.filter(year=2024, month=2).update(value=D("90"))

    second, _ = services.start_rent_run(house=house, year=2024, month=2, recalculate=True)
    # Half-way through a recalculation the published charges are still the first run's.
    monkeypatch.setattr(runs.time, "sleep", die)
    with pytest.raises(WorkerKilled):
        runs.execute_run(run_id=second.pk, batch_size=2, pause=1)
    assert dict(Charge.objects.values_list("flat_id", "total")) == before
    assert set(Charge.objects.values_list("run_id", flat=True)) == {first.pk}
    assert StagedLine.objects.filter(run=second).count() == 2


def test_one_active_run_per_house_and_month():
    global_tariffs()
    house = HouseFactory()
    run, created = services.start_rent_run(house=house, year=2024, month=2)
    again, created_again = services.start_rent_run(
        house=house, year=2024, month=2, recalculate=True
    )
    assert created
    assert not created_again
    assert again.pk == run.pk


def test_resume_stalled_runs_picks_only_active_runs_without_recent_progress():
    old = timezone.now() - timedelta(minutes=10)
    stalled = RentRunFactory(status=RentRun.Status.IN_PROGRESS, heartbeat_at=old)
    fresh = RentRunFactory(status=RentRun.Status.IN_PROGRESS, heartbeat_at=timezone.now())
    RentRunFactory(status=RentRun.Status.FAILED, heartbeat_at=old)
    lost = RentRunFactory(status=RentRun.Status.PENDING)
    RentRun.objects.filter(pk=lost.pk).update(created_at=old)

    resumed = runs.resume_stalled_runs(enqueue=enqueue_run, older_than=timedelta(minutes=2))

    assert set(resumed) == {stalled.pk, lost.pk}
    stalled.refresh_from_db()
    assert stalled.heartbeat_at > old
    assert fresh.pk not in resumed
    assert runs.resume_stalled_runs(enqueue=enqueue_run, older_than=timedelta(minutes=2)) == []


def test_failed_run_can_be_restarted_once_the_tariff_exists():
    TariffFactory(kind=Tariff.Kind.WATER)
    flat = FlatFactory(area=D("10"))
    run = run_month(flat.house, 2024, 1)
    assert run.status == RentRun.Status.FAILED
    TariffFactory(kind=Tariff.Kind.UPKEEP, price=D("2.00"))

    services.restart_run(run=run)
    runs.execute_run(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.result, run.error) == (RentRun.Status.COMPLETED, D("20.00"), "")
    with pytest.raises(RunCompleted):
        services.restart_run(run=run)


def test_run_gives_up_after_the_maximum_attempts(settings):
    settings.RENT_MAX_ATTEMPTS = 2
    global_tariffs()
    run = RentRunFactory(house=FlatFactory().house, attempts=2, status=RentRun.Status.IN_PROGRESS)
    runs.execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RentRun.Status.FAILED
    assert "2 attempts" in run.error
    assert not Charge.objects.exists()


def test_beat_task_resumes_stalled_runs_and_reports_how_many():
    from billing.tasks import resume_stalled_runs

    RentRunFactory(
        status=RentRun.Status.IN_PROGRESS, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert resume_stalled_runs() == 1
    assert resume_stalled_runs() == 0


def test_task_notes_why_an_execution_broke_off_and_keeps_the_run_active(monkeypatch, settings):
    from billing.tasks import calculate_rent

    global_tariffs()
    house = house_with_flats(flats=4, months=[(2024, 1), (2024, 2)])
    run, _ = services.start_rent_run(house=house, year=2024, month=2)
    monkeypatch.setattr(runs.time, "sleep", die)
    settings.RENT_BATCH_SIZE, settings.RENT_BATCH_PAUSE_SECONDS = 2, 1

    with pytest.raises(WorkerKilled):
        calculate_rent(str(run.pk))

    run.refresh_from_db()
    assert (run.status, run.done_flats, run.error) == ("IN_PROGRESS", 2, "WorkerKilled: ")
    monkeypatch.undo()
    settings.RENT_BATCH_PAUSE_SECONDS = 0
    calculate_rent(str(run.pk))
    run.refresh_from_db()
    assert (run.status, run.done_flats, run.error) == ("COMPLETED", 4, "")
