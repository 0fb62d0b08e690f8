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

import hashlib
import re
import weakref
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing.models import Charge, LineStatus, RentRun, StagedLine
from core.money import round_money
from housing.models import Flat, MeterReading, WaterMeter
from housing.periods import month_end, month_start, previous_month

# A batch's lines and the run's cursor commit together, so a database crash that loses the
# last commits loses both and the run recomputes them: the commit need not wait for the WAL
# flush. Sent with the statement to save a round trip.
_NO_FLUSH = "SET LOCAL synchronous_commit TO OFF;"

_LINES_SQL = """
WITH batch AS (
    SELECT f.id, f.area
    FROM {flat} f
    WHERE f.house_id = %(house_id)s AND f.id > %(after_id)s AND f.id <= %(max_id)s
    ORDER BY f.id
    LIMIT %(limit)s
),
-- One chain of index lookups from the batch's flats, grouped per flat: no join between two
-- aggregated sets, so the plan stays a nested loop whatever the row estimates.
per_flat AS (
    SELECT b.id AS flat_id,
           b.area,
           count(m.id) AS meters,
           bool_or(
               cur.value IS NULL
               OR (cur.previous IS NULL AND EXISTS (
                   SELECT 1 FROM {reading} old
                   WHERE old.meter_id = m.id
                     AND (old.year, old.month) < (%(prev_year)s, %(prev_month)s)))
               OR cur.value < coalesce(cur.previous, m.initial_value)
           ) AS missing,
           sum(cur.value - coalesce(cur.previous, m.initial_value)) AS consumption
    FROM batch b
    LEFT JOIN {meter} m
        ON m.flat_id = b.id
       AND (m.installed_on IS NULL OR m.installed_on <= %(month_end)s)
       AND (m.removed_on IS NULL OR m.removed_on >= %(month_start)s)
    -- Both months' readings in one descent of the (meter, year, month) index: the months are
    -- adjacent, so nothing else lies between them.
    LEFT JOIN LATERAL (
        SELECT max(r.value) FILTER (WHERE r.year = %(year)s AND r.month = %(month)s) AS value,
               max(r.value) FILTER (
                   WHERE r.year = %(prev_year)s AND r.month = %(prev_month)s
               ) AS previous
        FROM {reading} r
        WHERE r.meter_id = m.id
          AND (r.year, r.month) >= (%(prev_year)s, %(prev_month)s)
          AND (r.year, r.month) <= (%(year)s, %(month)s)
    ) cur ON true
    GROUP BY b.id, b.area
),
line AS (
    SELECT flat_id,
           area,
           CASE WHEN meters = 0 THEN 'no_meter'
                WHEN missing THEN 'needs_reading'
                ELSE 'ok' END AS status,
           CASE WHEN meters = 0 OR missing THEN 0 ELSE consumption END AS consumption
    FROM per_flat
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
),
summary AS (
    SELECT count(*) AS flats, coalesce(max(flat_id), 0) AS last_id,
           coalesce(sum(total), 0) AS total,
           count(*) FILTER (WHERE status = 'needs_reading') AS needs_reading
    FROM written
){progress}
SELECT s.flats, s.last_id, s.total, s.needs_reading{progress_columns}
FROM summary s{progress_join}
"""

# Saves the run in the batch's statement, a round trip less per batch: the fields the caller
# holds (claimed when the execution started) as given, the progress from the batch's summary.
# A short batch ends the work list; a run that publishes in place (not a recalculation) is then
# completed here too.
_PROGRESS_SQL = """,
progress AS (
    UPDATE {run} r SET
        attempts = %(attempts)s,
        status = CASE WHEN s.flats < %(limit)s AND %(complete)s THEN 'COMPLETED'
                      ELSE %(status)s END,
        water_tariff = %(water_tariff)s,
        upkeep_tariff = %(upkeep_tariff)s,
        total_flats = %(total_flats)s,
        max_flat_id = %(max_id)s,
        started_at = %(started_at)s,
        last_flat_id = CASE WHEN s.flats > 0 THEN s.last_id ELSE %(after_id)s END,
        done_flats = %(done_flats)s + s.flats,
        needs_reading_flats = %(needs_reading_flats)s + s.needs_reading,
        result = CASE WHEN s.flats > 0 OR (s.flats < %(limit)s AND %(complete)s)
                      THEN coalesce(%(result)s, 0) + s.total
                      ELSE %(result)s END,
        error = CASE WHEN s.flats < %(limit)s AND %(complete)s THEN '' ELSE r.error END,
        heartbeat_at = statement_timestamp(),
        finished_at = CASE WHEN s.flats < %(limit)s AND %(complete)s
                           THEN statement_timestamp() ELSE r.finished_at END
    FROM summary s
    WHERE r.id = %(run_id)s
    RETURNING r.status, r.last_flat_id, r.done_flats, r.needs_reading_flats, r.result, r.error,
              r.heartbeat_at, r.finished_at
)"""


@dataclass(frozen=True)
class BatchResult:
    flats: int
    last_flat_id: int
    total: Decimal
    needs_reading: int


_RUN_COLUMNS = [
    "status",
    "last_flat_id",
    "done_flats",
    "needs_reading_flats",
    "result",
    "error",
    "heartbeat_at",
    "finished_at",
]


@cache
def lines_sql(*, staged: bool, save_run: bool = False) -> str:
    """The batch statement, writing published charges or a recalculation's staged lines, and
    with `save_run` also the run's progress."""
    target = StagedLine if staged else Charge
    return _LINES_SQL.format(
        flat=Flat._meta.db_table,
        meter=WaterMeter._meta.db_table,
        reading=MeterReading._meta.db_table,
        target=target._meta.db_table,
        conflict="run_id, flat_id" if staged else "flat_id, year, month",
        progress=_PROGRESS_SQL.format(run=RentRun._meta.db_table) if save_run else "",
        progress_columns="".join(f", p.{column}" for column in _RUN_COLUMNS) if save_run else "",
        progress_join=" LEFT JOIN progress p ON true" if save_run else "",
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
    """Write the lines of the next batch of flats (after `after_id`); caller holds the run lock.

    PostgreSQL runs the set-based statement above. Other databases (the embedded SQLite of the
    quick start) get the same rules computed in Python from a few set-based reads per batch.
    """
    if connection.vendor != "postgresql":
        return calculate_batch_portable(staged=staged, **params)
    with connection.cursor() as cursor:
        cursor.execute(_NO_FLUSH + lines_sql(staged=staged), sql_params(**params))
        flats, last_id, total, needs_reading = cursor.fetchone()
    return BatchResult(flats, last_id, Decimal(total), needs_reading)


# The types of the prepared statement's parameters (PostgreSQL cannot infer all of them).
_PARAM_TYPES = {
    "house_id": "bigint",
    "after_id": "bigint",
    "max_id": "bigint",
    "limit": "bigint",
    "year": "smallint",
    "month": "smallint",
    "prev_year": "smallint",
    "prev_month": "smallint",
    "month_start": "date",
    "month_end": "date",
    "water_tariff": "numeric",
    "upkeep_tariff": "numeric",
    "run_id": "uuid",
    "attempts": "integer",
    "status": "text",
    "complete": "boolean",
    "total_flats": "integer",
    "started_at": "timestamptz",
    "done_flats": "integer",
    "needs_reading_flats": "integer",
    "result": "numeric",
}

# Per database connection: the raw connection and the names prepared on it. Keyed weakly, so
# a closed connection's entry goes with it and a new connection prepares again.
_prepared_on: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()


@cache
def _prepared_sql(*, staged: bool) -> tuple[str, str, tuple[str, ...]]:
    """(name, PREPARE statement, parameter names in $n order) of the batch statement."""
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    body = re.sub(r"%\((\w+)\)s", placeholder, lines_sql(staged=staged, save_run=True))
    digest = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:12]
    name = f"billing_rent_batch_{'staged' if staged else 'charges'}_{digest}"
    types = ", ".join(_PARAM_TYPES[n] for n in names)
    return name, f"PREPARE {name} ({types}) AS {body}", tuple(names)


# Without it, PostgreSQL plans the first five executions on each connection anew before it
# settles on the generic plan, which is the plan it would choose for any batch anyway.
_GENERIC_PLAN = "SET LOCAL plan_cache_mode TO force_generic_plan;"


def _prepared(cursor, *, staged: bool) -> tuple[str, tuple[str, ...]]:
    """Prepare the batch statement once per database connection. Planning it took as long as
    running it for a 200-flat batch; the generic plan (a chain of index lookups from the
    batch's flats) suits every batch. PREPARE outlives a rollback, so it is sent on its own
    and remembered only once it succeeded."""
    name, prepare, names = _prepared_sql(staged=staged)
    raw = connection.connection
    done = _prepared_on.setdefault(raw, set())
    if name not in done:
        cursor.execute(prepare)
        done.add(name)
    return name, names


def calculate_next_batch(*, run: RentRun, limit: int) -> BatchResult:
    """Write the lines of the run's next batch of flats and save the run's progress (the
    in-memory run, claimed by the caller, included), in one statement on PostgreSQL. A short
    batch ends the work list: a run that is not a recalculation is then completed as well
    (`run.status` says so), a recalculation is left for the caller to publish. The caller holds
    the run's row lock; `run` is updated to what was saved."""
    work = {
        "run_id": run.pk,
        "house_id": run.house_id,
        "year": run.year,
        "month": run.month,
        "water_tariff": run.water_tariff,
        "upkeep_tariff": run.upkeep_tariff,
        "after_id": run.last_flat_id,
        "max_id": run.max_flat_id,
        "limit": limit,
    }
    if connection.vendor != "postgresql":
        batch = calculate_batch_portable(staged=run.recalculate, **work)
        if batch.flats:
            run.last_flat_id = batch.last_flat_id
            run.done_flats += batch.flats
            run.result = (run.result or 0) + batch.total
            run.needs_reading_flats += batch.needs_reading
        if batch.flats < limit and not run.recalculate:
            run.result = run.result or 0
            run.status = RentRun.Status.COMPLETED
            run.error = ""
            run.finished_at = timezone.now()
        run.heartbeat_at = timezone.now()
        run.save()
        return batch
    params = sql_params(**work)
    params.update(
        attempts=run.attempts,
        status=run.status,
        complete=not run.recalculate,
        total_flats=run.total_flats,
        started_at=run.started_at,
        done_flats=run.done_flats,
        needs_reading_flats=run.needs_reading_flats,
        result=run.result,
    )
    with connection.cursor() as cursor:
        # Behind a transaction-pooling proxy (which is what this Django setting is for) the
        # next transaction may run on another server connection, without the statement.
        if connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
            cursor.execute(_NO_FLUSH + lines_sql(staged=run.recalculate, save_run=True), params)
        else:
            name, names = _prepared(cursor, staged=run.recalculate)
            arguments = ", ".join(f"%({n})s" for n in names)
            cursor.execute(f"{_NO_FLUSH} {_GENERIC_PLAN} EXECUTE {name}({arguments})", params)
        flats, last_id, total, needs_reading, *saved = cursor.fetchone()
    if saved[0] is None:
        raise RentRun.DoesNotExist(f"Rent run {run.pk} vanished while locked.")
    for column, value in zip(_RUN_COLUMNS, saved, strict=True):
        setattr(run, column, value)
    return BatchResult(flats, last_id, Decimal(total), needs_reading)


LINE_FIELDS = [
    "house_id",
    "run_id",
    "status",
    "area",
    "water_consumption",
    "water_tariff",
    "upkeep_tariff",
    "water_cost",
    "upkeep_cost",
    "total",
]


def calculate_batch_portable(
    *,
    staged: bool,
    run_id,
    house_id: int,
    year: int,
    month: int,
    water_tariff: Decimal,
    upkeep_tariff: Decimal,
    after_id: int = 0,
    max_id: int,
    limit: int,
) -> BatchResult:
    """The batch statement's rules in Python with Decimal: four queries per batch, whatever
    its size (flats, meters, readings of the two months, meters with older readings)."""
    flats = list(
        Flat.objects.filter(house_id=house_id, id__gt=after_id, id__lte=max_id)
        .order_by("id")
        .values_list("id", "area")[:limit]
    )
    if not flats:
        return BatchResult(0, 0, Decimal(0), 0)
    prev_year, prev_month = previous_month(year, month)
    meters = list(
        WaterMeter.objects.filter(flat_id__in=[flat_id for flat_id, _ in flats])
        .filter(Q(installed_on__isnull=True) | Q(installed_on__lte=month_end(year, month)))
        .filter(Q(removed_on__isnull=True) | Q(removed_on__gte=month_start(year, month)))
        .values_list("id", "flat_id", "initial_value")
    )
    meter_ids = [meter_id for meter_id, _, _ in meters]
    values = {
        (meter_id, y, m): value
        for meter_id, y, m, value in MeterReading.objects.filter(meter_id__in=meter_ids)
        .filter(Q(year=year, month=month) | Q(year=prev_year, month=prev_month))
        .values_list("meter_id", "year", "month", "value")
    }
    with_older = set(
        MeterReading.objects.filter(meter_id__in=meter_ids)
        .filter(Q(year__lt=prev_year) | Q(year=prev_year, month__lt=prev_month))
        .values_list("meter_id", flat=True)
        .distinct()
    )
    use: dict[int, list[Decimal | None]] = {}
    for meter_id, flat_id, initial in meters:
        current = values.get((meter_id, year, month))
        before = values.get((meter_id, prev_year, prev_month))
        if before is None and meter_id not in with_older:
            before = initial
        ok = current is not None and before is not None and current >= before
        use.setdefault(flat_id, []).append(current - before if ok else None)

    model = StagedLine if staged else Charge
    lines = []
    for flat_id, area in flats:
        used = use.get(flat_id)
        if used is None:
            status, consumption = LineStatus.NO_METER, Decimal(0)
        elif None in used:
            status, consumption = LineStatus.NEEDS_READING, Decimal(0)
        else:
            status, consumption = LineStatus.OK, sum(used, Decimal(0))
        water_cost = round_money(consumption * water_tariff)
        upkeep_cost = round_money(area * upkeep_tariff)
        lines.append(
            model(
                flat_id=flat_id,
                house_id=house_id,
                year=year,
                month=month,
                run_id=run_id,
                status=status,
                area=area,
                water_consumption=consumption,
                water_tariff=water_tariff,
                upkeep_tariff=upkeep_tariff,
                water_cost=water_cost,
                upkeep_cost=upkeep_cost,
                total=water_cost + upkeep_cost,
            )
        )
    model.objects.bulk_create(
        lines,
        update_conflicts=True,
        unique_fields=["run", "flat"] if staged else ["flat", "year", "month"],
        update_fields=LINE_FIELDS,
    )
    return BatchResult(
        flats=len(lines),
        last_flat_id=flats[-1][0],
        total=sum((line.total for line in lines), Decimal(0)),
        needs_reading=sum(line.status == LineStatus.NEEDS_READING for line in lines),
    )
