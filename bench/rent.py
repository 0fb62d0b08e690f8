"""Rent calculation benchmark: our batched task code against one bare INSERT ... SELECT.

Builds a city in PostgreSQL (default 100,000 flats in 500 houses, 2 meters each, 13 months of
readings), runs the real calculation of the last month for every house through the Celery
task's code in this process (progress saving included), then times one bare set-based
`INSERT ... SELECT` computing the same charges on the same data, checks both give the same
sum, prints the figures and deletes the city (unless --keep).

    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/rent.py --flats 20000
"""

import argparse
import logging
import os
import resource
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

# DEBUG keeps every query in memory; the figures are about the calculation, not that log.
settings.DEBUG = False

from _harness import build_registry, cpu_seconds  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from billing.models import Charge, RentRun  # noqa: E402
from billing.tasks import calculate_rent  # noqa: E402
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter  # noqa: E402

YEAR, MONTH = 2024, 12  # the month calculated; readings run from 2023-12
WATER, UPKEEP = Decimal("45.50"), Decimal("32.15")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_delta(before: float | None) -> float | None:
    after = cpu_seconds()
    return None if before is None or after is None else after - before


def build_city(*, houses: int, flats: int, meters: int, months: int) -> tuple[int, list[int]]:
    street_id, house_ids, _tag = build_registry(houses=houses, flats=flats, meters=meters)
    with connection.cursor() as cur:
        # Cumulative values rising by 1..7 m3 a month, over `months` months ending YEAR-MONTH.
        cur.execute(
            f"INSERT INTO {MeterReading._meta.db_table} (meter_id, year, month, value, created_at) "
            "SELECT m.id, extract(year FROM d)::int, extract(month FROM d)::int, "
            "       (i + 1) * (1 + m.id %% 7) + (m.id %% 13) * 0.001, now() "
            f"FROM {WaterMeter._meta.db_table} m "
            f"JOIN {Flat._meta.db_table} f ON f.id = m.flat_id "
            "CROSS JOIN generate_series(0, %s - 1) i "
            "CROSS JOIN LATERAL (SELECT make_date(%s, %s, 1) - (%s - 1 - i) * interval '1 month') "
            "    AS t(d) "
            "WHERE f.house_id = ANY(%s)",
            [months, YEAR, MONTH, months, house_ids],
        )
        cur.execute(
            f"INSERT INTO {Tariff._meta.db_table} (kind, price, valid_from, house_id, created_at) "
            "SELECT k, CASE k WHEN 'water' THEN %s ELSE %s END, '2000-01-01', h, now() "
            "FROM unnest(%s::bigint[]) h CROSS JOIN unnest(ARRAY['water', 'upkeep']) k",
            [WATER, UPKEEP, house_ids],
        )
    # What autovacuum does after a bulk load (it may be off, or late, on a test server): fresh
    # statistics and visibility map, no dead rows left by an earlier run's cleanup to step over.
    vacuum()
    return street_id, house_ids


def vacuum() -> None:
    tables = [House, Flat, WaterMeter, MeterReading, Tariff, Charge, RentRun]
    with connection.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {', '.join(model._meta.db_table for model in tables)}")


BARE_SQL = f"""
INSERT INTO {{table}} (flat_id, house_id, year, month, run_id, status, area, water_consumption,
                     water_tariff, upkeep_tariff, water_cost, upkeep_cost, total, paid_amount)
SELECT f.id, f.house_id, %(year)s, %(month)s, %(run_id)s, 'ok', f.area,
       coalesce(u.consumption, 0), %(water)s, %(upkeep)s,
       round(coalesce(u.consumption, 0) * %(water)s, 2),
       round(f.area * %(upkeep)s, 2),
       round(coalesce(u.consumption, 0) * %(water)s, 2) + round(f.area * %(upkeep)s, 2), 0
FROM {Flat._meta.db_table} f
LEFT JOIN (
    SELECT m.flat_id, sum(cur.value - prev.value) AS consumption
    FROM {Flat._meta.db_table} mf
    JOIN {WaterMeter._meta.db_table} m ON m.flat_id = mf.id
    JOIN {MeterReading._meta.db_table} cur
      ON cur.meter_id = m.id AND cur.year = %(year)s AND cur.month = %(month)s
    JOIN {MeterReading._meta.db_table} prev
      ON prev.meter_id = m.id AND prev.year = %(prev_year)s AND prev.month = %(prev_month)s
    WHERE mf.house_id = ANY(%(houses)s)
    GROUP BY m.flat_id
) u ON u.flat_id = f.id
WHERE f.house_id = ANY(%(houses)s)
"""

# Two targets for the bare statement: a temporary table without indexes (no WAL either, the
# floor), and a logged copy of the charges table with its indexes and CHECKs (not its FKs).
BARE_TARGETS = {
    "temp table, no indexes": (
        "CREATE TEMP TABLE {name} (LIKE {charge}) ON COMMIT DROP; "
        "ALTER TABLE {name} ALTER COLUMN id DROP NOT NULL"
    ),
    "copy of billing_charge": "CREATE TABLE {name} (LIKE {charge} INCLUDING ALL)",
}


def bare_sql(house_ids: list[int], run_id) -> dict[str, tuple[float, Decimal, int, float | None]]:
    figures = {}
    for label, create in BARE_TARGETS.items():
        name = f"bench_bare_{uuid.uuid4().hex[:8]}"
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(create.format(name=name, charge=Charge._meta.db_table))
            cpu = cpu_seconds()
            started = time.perf_counter()
            cur.execute(
                BARE_SQL.format(table=name),
                {
                    "water": WATER,
                    "upkeep": UPKEEP,
                    "year": YEAR,
                    "month": MONTH,
                    "prev_year": YEAR,
                    "prev_month": MONTH - 1,
                    "houses": house_ids,
                    "run_id": run_id,
                },
            )
            elapsed = time.perf_counter() - started
            cpu = cpu_delta(cpu)
            cur.execute(f"SELECT coalesce(sum(total), 0), count(*) FROM {name}")
            total, count = cur.fetchone()
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        figures[label] = (elapsed, total, count, cpu)
    return figures


def ours(house_ids: list[int]) -> tuple[float, Decimal, int, float, float | None]:
    runs = RentRun.objects.bulk_create(
        RentRun(house_id=house_id, year=YEAR, month=MONTH) for house_id in house_ids
    )
    rss_before = rss_mb()
    cpu = cpu_seconds()
    started = time.perf_counter()
    for run in runs:
        calculate_rent(str(run.pk))  # the Celery task's body, in this process
    elapsed = time.perf_counter() - started
    cpu = cpu_delta(cpu)
    done = RentRun.objects.filter(pk__in=[r.pk for r in runs])
    statuses = set(done.values_list("status", flat=True))
    if statuses != {RentRun.Status.COMPLETED}:
        raise SystemExit(f"runs did not complete: {statuses}")
    total = sum(done.values_list("result", flat=True), Decimal(0))
    count = Charge.objects.filter(house_id__in=house_ids, year=YEAR, month=MONTH).count()
    return elapsed, total, count, rss_before, cpu


def cleanup(street_id: int, house_ids: list[int]) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        for model, column in [
            (Charge, "house_id"),
            (RentRun, "house_id"),
            (Tariff, "house_id"),
        ]:
            cur.execute(f"DELETE FROM {model._meta.db_table} WHERE {column} = ANY(%s)", [house_ids])
        flats = f"SELECT id FROM {Flat._meta.db_table} WHERE house_id = ANY(%s)"
        meters = f"SELECT id FROM {WaterMeter._meta.db_table} WHERE flat_id IN ({flats})"
        cur.execute(
            f"DELETE FROM {MeterReading._meta.db_table} WHERE meter_id IN ({meters})", [house_ids]
        )
        cur.execute(
            f"DELETE FROM {WaterMeter._meta.db_table} WHERE flat_id IN ({flats})", [house_ids]
        )
        cur.execute(f"DELETE FROM {Flat._meta.db_table} WHERE house_id = ANY(%s)", [house_ids])
        cur.execute(f"DELETE FROM {House._meta.db_table} WHERE id = ANY(%s)", [house_ids])
        cur.execute(f"DELETE FROM {Street._meta.db_table} WHERE id = %s", [street_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flats", type=int, default=100_000, help="flats in total")
    parser.add_argument("--houses", type=int, default=500, help="houses")
    parser.add_argument("--meters", type=int, default=2, help="meters per flat")
    parser.add_argument("--months", type=int, default=13, help="months of readings")
    parser.add_argument("--keep", action="store_true", help="keep the generated city")
    parser.add_argument("--verbose", action="store_true", help="log every run's completion")
    args = parser.parse_args()
    if not args.verbose:
        logging.getLogger("billing").setLevel(logging.WARNING)
    if connection.vendor != "postgresql":
        raise SystemExit("bench/rent.py needs PostgreSQL (set DATABASE_URL)")
    started = time.perf_counter()
    street_id, house_ids = build_city(
        houses=args.houses, flats=args.flats, meters=args.meters, months=args.months
    )
    flats = Flat.objects.filter(house_id__in=house_ids).count()
    print(
        f"city: {args.houses} houses, {flats} flats, {args.meters} meters each, {args.months} "
        f"months of readings; built in {time.perf_counter() - started:.1f} s"
    )
    try:
        ours_s, ours_total, ours_count, rss_before, ours_cpu = ours(house_ids)
        any_run = RentRun.objects.filter(house_id__in=house_ids).values_list("pk", flat=True)[0]
        bare = bare_sql(house_ids, any_run)
        print(
            f"ours: {ours_s:.3f} s for {ours_count} charges = {flats / ours_s:,.0f} flats/s "
            f"({len(house_ids)} runs, batch size {settings.RENT_BATCH_SIZE})"
        )
        print(f"peak RSS: {rss_mb():.1f} MB (before the calculation: {rss_before:.1f} MB)")
        for label, (bare_s, bare_total, bare_count, bare_cpu) in bare.items():
            same = "same sum" if bare_total == ours_total else f"DIFFERENT sum {bare_total}"
            print(
                f"bare INSERT ... SELECT into a {label}: {bare_s:.3f} s for {bare_count} rows "
                f"({same}); ratio ours / bare: {ours_s / bare_s:.2f}"
            )
            if ours_cpu is not None and bare_cpu:
                print(
                    f"  CPU (this process + its PostgreSQL backend): ours {ours_cpu:.3f} s, "
                    f"bare {bare_cpu:.3f} s; ratio {ours_cpu / bare_cpu:.2f}"
                )
    finally:
        if not args.keep:
            cleanup(street_id, house_ids)


if __name__ == "__main__":
    main()
