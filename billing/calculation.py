"""The rent arithmetic as one set-based SQL statement per batch of flats.

For each flat of the batch:
- consumption = sum over the meters installed during the month of (this month's reading -
  the previous month's reading). A meter without any earlier reading (new, or a replacement)
  counts from its `initial_value`. A meter missing this month's reading, or missing the previous
  month's while it has older ones, makes the line `needs_reading`: no water is charged.
- water = round(water tariff x consumption), upkeep = round(upkeep tariff x area), both
  half-up to kopecks (PostgreSQL's round() on numeric rounds half away from zero, which is
  half-up for these non-negative amounts); total = water + upkeep.

The statement inserts the lines and returns (flats, last flat id, sum of totals) of the batch,
so the caller can save progress in the same transaction.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from billing.models import Charge, StagedLine
from housing.models import Flat, MeterReading, WaterMeter
from housing.periods import month_end, month_start, previous_month

# A batch's lines and the run's cursor commit together, so a database crash that loses the
# last commits loses both and the run recomputes them: the commit need not wait for the WAL
# flush. Sent with the statement to save a round trip.
_LINES_SQL = """
SET LOCAL synchronous_commit TO OFF;
WITH batch AS (
    SELECT f.id, f.area
    FROM {flat} f
    WHERE f.house_id = %(house_id)s AND f.id > %(after_id)s AND f.id <= %(max_id)s
    ORDER BY f.id
    LIMIT %(limit)s
),
meter_use AS (
    SELECT m.flat_id,
           bool_or(
               cur.value IS NULL
               OR (prev.value IS NULL AND EXISTS (
                   SELECT 1 FROM {reading} old
                   WHERE old.meter_id = m.id
                     AND (old.year, old.month) < (%(prev_year)s, %(prev_month)s)))
               OR cur.value < coalesce(prev.value, m.initial_value)
           ) AS missing,
           sum(cur.value - coalesce(prev.value, m.initial_value)) AS consumption
    FROM batch b
    JOIN {meter} m ON m.flat_id = b.id
    LEFT JOIN {reading} cur
        ON cur.meter_id = m.id AND cur.year = %(year)s AND cur.month = %(month)s
    LEFT JOIN {reading} prev
        ON prev.meter_id = m.id AND prev.year = %(prev_year)s AND prev.month = %(prev_month)s
    WHERE (m.installed_on IS NULL OR m.installed_on <= %(month_end)s)
      AND (m.removed_on IS NULL OR m.removed_on >= %(month_start)s)
    GROUP BY m.flat_id
),
line AS (
    SELECT b.id AS flat_id,
           b.area,
           CASE WHEN u.flat_id IS NULL THEN 'no_meter'
                WHEN u.missing THEN 'needs_reading'
                ELSE 'ok' END AS status,
           CASE WHEN u.flat_id IS NULL OR u.missing THEN 0
                ELSE u.consumption END AS consumption
    FROM batch b
    LEFT JOIN meter_use u ON u.flat_id = b.id
),
priced AS (
    SELECT l.*,
           round(l.consumption * %(water_tariff)s, 2) AS water_cost,
           round(l.area * %(upkeep_tariff)s, 2) AS upkeep_cost
    FROM line l
),
written AS (
    INSERT INTO {target} (
        flat_id, house_id, year, month, run_id, status, area, water_consumption,
        water_tariff, upkeep_tariff, water_cost, upkeep_cost, total
    )
    SELECT p.flat_id, %(house_id)s, %(year)s, %(month)s, %(run_id)s, p.status, p.area,
           p.consumption, %(water_tariff)s, %(upkeep_tariff)s, p.water_cost, p.upkeep_cost,
           p.water_cost + p.upkeep_cost
    FROM priced p
    ON CONFLICT ({conflict}) DO UPDATE SET
        run_id = EXCLUDED.run_id, status = EXCLUDED.status, area = EXCLUDED.area,
        water_consumption = EXCLUDED.water_consumption, water_tariff = EXCLUDED.water_tariff,
        upkeep_tariff = EXCLUDED.upkeep_tariff, water_cost = EXCLUDED.water_cost,
        upkeep_cost = EXCLUDED.upkeep_cost, total = EXCLUDED.total
    RETURNING flat_id, total, status
)
SELECT count(*), coalesce(max(flat_id), 0), coalesce(sum(total), 0),
       count(*) FILTER (WHERE status = 'needs_reading')
FROM written
"""


@dataclass(frozen=True)
class BatchResult:
    flats: int
    last_flat_id: int
    total: Decimal
    needs_reading: int


def lines_sql(*, staged: bool) -> str:
    """The batch statement, writing published charges or a recalculation's staged lines."""
    target = StagedLine if staged else Charge
    return _LINES_SQL.format(
        flat=Flat._meta.db_table,
        meter=WaterMeter._meta.db_table,
        reading=MeterReading._meta.db_table,
        target=target._meta.db_table,
        conflict="run_id, flat_id" if staged else "flat_id, year, month",
    )


def sql_params(
    *,
    run_id,
    house_id: int,
    year: int,
    month: int,
    water_tariff: Decimal,
    upkeep_tariff: Decimal,
    after_id: int = 0,
    max_id: int,
    limit: int,
) -> dict:
    prev_year, prev_month = previous_month(year, month)
    return {
        "run_id": run_id,
        "house_id": house_id,
        "year": year,
        "month": month,
        "prev_year": prev_year,
        "prev_month": prev_month,
        "month_start": month_start(year, month),
        "month_end": month_end(year, month),
        "water_tariff": water_tariff,
        "upkeep_tariff": upkeep_tariff,
        "after_id": after_id,
        "max_id": max_id,
        "limit": limit,
    }


def calculate_batch(*, staged: bool, **params) -> BatchResult:
    """Write the lines of the next batch of flats (after `after_id`); caller holds the run lock."""
    with connection.cursor() as cursor:
        cursor.execute(lines_sql(staged=staged), sql_params(**params))
        flats, last_id, total, needs_reading = cursor.fetchone()
    return BatchResult(flats, last_id, Decimal(total), needs_reading)
