"""Billing's raw SQL, each statement beside its SQLite twin (core.db picks one).

The rent batch is one set-based statement per batch of flats: it computes the lines by the
rules of billing/rules.py, writes them (published charges, or a recalculation's staged lines)
and saves the run's progress, all in one round trip. Its SQLite twin (the embedded quick start)
reads the batch with a few set-based ORM queries, applies billing.rules.rent_line in Python and
saves the run through the ORM. The run's lock and the facts a run fixes when it starts are one
more statement; publishing a recalculation is one statement both databases run.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, TypedDict

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing.models import Charge, ChargeFields, RentRun, StagedLine
from billing.rules import MeterMonth, rent_line
from core.db import by_vendor
from core.prepared import PreparedStatement
from housing.models import Flat, MeterReading, Tariff, WaterMeter
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
),
-- Saves the run, a round trip less per batch: the fields the caller holds (claimed when the
-- execution started) as given, the progress from the batch's summary. A short batch ends the
-- work list; a run that publishes in place (not a recalculation) is then completed here too.
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
)
SELECT s.flats, s.last_id, s.total, s.needs_reading, {progress_columns}
FROM summary s LEFT JOIN progress p ON true
"""

# The run's fields the batch statement saves and returns, in its RETURNING order.
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


@dataclass(frozen=True)
class BatchResult:
    flats: int
    last_flat_id: int
    total: Decimal
    needs_reading: int


@cache
def _batch_sql(*, staged: bool) -> str:
    """The batch statement, writing published charges or a recalculation's staged lines."""
    return _LINES_SQL.format(
        flat=Flat._meta.db_table,
        meter=WaterMeter._meta.db_table,
        reading=MeterReading._meta.db_table,
        target=(StagedLine if staged else Charge)._meta.db_table,
        conflict="run_id, flat_id" if staged else "flat_id, year, month",
        run=RentRun._meta.db_table,
        progress_columns=", ".join(f"p.{column}" for column in _RUN_COLUMNS),
    )


@cache
def _batch_statement(*, staged: bool) -> PreparedStatement:
    # Planning the statement took as long as running it for a 200-flat batch; the generic
    # plan (a chain of index lookups from the batch's flats) suits every batch.
    kind = "staged" if staged else "charges"
    return PreparedStatement(
        prefix=f"billing_rent_batch_{kind}", sql=_batch_sql(staged=staged), types=_PARAM_TYPES
    )


def write_next_batch(*, run: RentRun, limit: int) -> BatchResult:
    """Write the lines of the run's next batch of flats and save the run's progress (the
    in-memory run, claimed by the caller, included). A short batch ends the work list: a run
    that is not a recalculation is then completed as well (`run.status` says so), a
    recalculation is left for the caller to publish. The caller holds the run's row lock; `run`
    is updated to what was saved."""
    write = by_vendor(postgresql=_write_next_batch, sqlite=_write_next_batch_sqlite)
    return write(run=run, limit=limit)


def _batch_params(run: RentRun, limit: int) -> dict[str, Any]:
    prev_year, prev_month = previous_month(run.year, run.month)
    return {
        "run_id": run.pk,
        "house_id": run.house_id,
        "year": run.year,
        "month": run.month,
        "prev_year": prev_year,
        "prev_month": prev_month,
        "month_start": month_start(run.year, run.month),
        "month_end": month_end(run.year, run.month),
        "water_tariff": run.water_tariff,
        "upkeep_tariff": run.upkeep_tariff,
        "after_id": run.last_flat_id,
        "max_id": run.max_flat_id,
        "limit": limit,
        "attempts": run.attempts,
        "status": run.status,
        "complete": not run.recalculate,
        "total_flats": run.total_flats,
        "started_at": run.started_at,
        "done_flats": run.done_flats,
        "needs_reading_flats": run.needs_reading_flats,
        "result": run.result,
    }


def _write_next_batch(*, run: RentRun, limit: int) -> BatchResult:
    with connection.cursor() as cursor:
        _batch_statement(staged=run.recalculate).execute(
            cursor, _batch_params(run, limit), before=_NO_FLUSH
        )
        flats, last_id, total, needs_reading, *saved = cursor.fetchone()
    if saved[0] is None:
        raise RentRun.DoesNotExist(f"Rent run {run.pk} vanished while locked.")
    for column, value in zip(_RUN_COLUMNS, saved, strict=True):
        setattr(run, column, value)
    return BatchResult(flats, last_id, Decimal(total), needs_reading)


def _write_next_batch_sqlite(*, run: RentRun, limit: int) -> BatchResult:
    batch = _write_lines_sqlite(run, limit)
    now = timezone.now()
    if batch.flats:
        run.last_flat_id = batch.last_flat_id
        run.done_flats += batch.flats
        run.result = (run.result or Decimal(0)) + batch.total
        run.needs_reading_flats += batch.needs_reading
    if batch.flats < limit and not run.recalculate:
        run.result = run.result or Decimal(0)
        run.status = RentRun.Status.COMPLETED
        run.error = ""
        run.finished_at = now
    run.heartbeat_at = now
    run.save()
    return batch


# What a line carries besides its flat and month: what publishing copies into the charges, and
# (with the house) what a batch writes.
_PUBLISHED_COLUMNS = (
    "run_id",
    "status",
    "area",
    "water_consumption",
    "water_tariff",
    "upkeep_tariff",
    "water_cost",
    "upkeep_cost",
    "total",
)
_LINE_FIELDS = ["house_id", *_PUBLISHED_COLUMNS]


def _write_lines_sqlite(run: RentRun, limit: int) -> BatchResult:
    """The batch's lines by billing.rules, from four queries whatever the batch's size
    (flats, meters, readings of the two months, meters with older readings)."""
    year, month = run.year, run.month
    flats = list(
        Flat.objects.filter(house_id=run.house_id, id__gt=run.last_flat_id, id__lte=run.max_flat_id)
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
    per_flat: dict[int, list[MeterMonth]] = {}
    for meter_id, flat_id, initial in meters:
        per_flat.setdefault(flat_id, []).append(
            MeterMonth(
                initial_value=initial,
                current=values.get((meter_id, year, month)),
                previous=values.get((meter_id, prev_year, prev_month)),
                has_older=meter_id in with_older,
            )
        )
    model: type[ChargeFields] = StagedLine if run.recalculate else Charge
    lines: list[ChargeFields] = []
    for flat_id, area in flats:
        line = rent_line(
            area=area,
            meters=per_flat.get(flat_id, []),
            water_tariff=run.water_tariff,
            upkeep_tariff=run.upkeep_tariff,
        )
        lines.append(
            model(
                flat_id=flat_id,
                house_id=run.house_id,
                year=year,
                month=month,
                run_id=run.pk,
                status=line.status,
                area=area,
                water_consumption=line.consumption,
                water_tariff=run.water_tariff,
                upkeep_tariff=run.upkeep_tariff,
                water_cost=line.water_cost,
                upkeep_cost=line.upkeep_cost,
                total=line.total,
            )
        )
    # `objects` on the abstract base is unknown to the checker; it is the default manager.
    model._default_manager.bulk_create(
        lines,
        update_conflicts=True,
        unique_fields=["run", "flat"] if run.recalculate else ["flat", "year", "month"],
        update_fields=_LINE_FIELDS,
    )
    return BatchResult(
        flats=len(lines),
        last_flat_id=flats[-1][0],
        total=sum((line.total for line in lines), Decimal(0)),
        needs_reading=sum(line.status == "needs_reading" for line in lines),
    )


def publish_staged_lines(run: RentRun) -> None:
    """Upsert the run's staged lines into the month's charges (one statement that PostgreSQL
    and SQLite both run): a charge keeps its id and what was paid on it."""
    columns = ", ".join(["flat_id", "house_id", "year", "month", *_PUBLISHED_COLUMNS])
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in _PUBLISHED_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Charge._meta.db_table} ({columns}) "
            f"SELECT {columns} FROM {StagedLine._meta.db_table} WHERE run_id = %s "
            f"ON CONFLICT (flat_id, year, month) DO UPDATE SET {updates}",
            [RentRun._meta.pk.get_db_prep_value(run.pk, connection)],
        )


# Per kind the latest tariff started by the month's first day, a house's own one first; and the
# house's flat count and highest flat id. Plain SQL: the rent task runs it once per house, and
# composing it with the ORM cost more CPU than the query itself. Both databases run it.
_FACTS_SQL = """
SELECT
    (SELECT t.price FROM {tariff} t
     WHERE t.kind = '{water}' AND (t.house_id = {house} OR t.house_id IS NULL)
       AND t.valid_from <= {first_day}
     ORDER BY t.house_id IS NULL, t.valid_from DESC LIMIT 1) AS water_price,
    (SELECT t.price FROM {tariff} t
     WHERE t.kind = '{upkeep}' AND (t.house_id = {house} OR t.house_id IS NULL)
       AND t.valid_from <= {first_day}
     ORDER BY t.house_id IS NULL, t.valid_from DESC LIMIT 1) AS upkeep_price,
    flats.n AS flats_count,
    flats.max_id AS max_flat_id
-- count and max in one aggregate on purpose: a lone max(id) may be planned as a backward walk
-- of the primary key filtered on house_id, which reads every flat of the later houses.
FROM (SELECT count(*) AS n, max(f.id) AS max_id FROM {flat} f WHERE f.house_id = {house}) flats
"""


def _facts_sql(*, house: str = "%s", first_day: str = "%s") -> str:
    """The facts query for a house id and a day given as SQL (by default three placeholders:
    house, day, house)."""
    return _FACTS_SQL.format(
        tariff=Tariff._meta.db_table,
        flat=Flat._meta.db_table,
        water=Tariff.Kind.WATER.value,
        upkeep=Tariff.Kind.UPKEEP.value,
        house=house,
        first_day=first_day,
    )


class MonthFacts(TypedDict):
    """What a rent run fixes when it starts; the prices are keyed by their Tariff.Kind value."""

    water: Decimal | None
    upkeep: Decimal | None
    flats_count: int
    max_flat_id: int


def _month_facts(
    *, water_price: object, upkeep_price: object, flats_count: int | None, max_flat_id: int | None
) -> MonthFacts:
    # A raw cursor's value, converted as the price field converts it (SQLite's is no Decimal).
    decimal = Tariff._meta.get_field("price")
    return {
        "water": decimal.to_python(water_price) if water_price is not None else None,
        "upkeep": decimal.to_python(upkeep_price) if upkeep_price is not None else None,
        "flats_count": flats_count or 0,
        "max_flat_id": max_flat_id or 0,
    }


def house_month_facts(*, house_id: int, year: int, month: int) -> MonthFacts:
    """What a rent run fixes when it starts, in one query: the water and upkeep prices in
    force on the month's first day (a house's own tariff beats the global one; None when
    there is none), the house's flat count and its highest flat id."""
    first_day = month_start(year, month)
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), [house_id, first_day, house_id, first_day, house_id])
        water_price, upkeep_price, flats, max_flat_id = cursor.fetchone()
    return _month_facts(
        water_price=water_price,
        upkeep_price=upkeep_price,
        flats_count=flats,
        max_flat_id=max_flat_id,
    )


def lock_run(run_id: uuid.UUID | str) -> tuple[RentRun | None, MonthFacts | None]:
    """The run under its row lock and, on PostgreSQL when it is still PENDING, the facts its
    claim fixes (house_month_facts) in the same round trip; None facts: read them when needed.
    Plain SQL: on the per-batch path, compiling the ORM's query took longer than running it."""
    pk = RentRun._meta.pk
    params = [pk.get_db_prep_value(pk.to_python(run_id), connection)]
    lock = by_vendor(postgresql=_lock_run_with_facts, sqlite=_lock_run_sqlite)
    return lock(params)


def _lock_run_with_facts(params: list[object]) -> tuple[RentRun | None, MonthFacts | None]:
    # The facts' subqueries only run for a PENDING run (a one-time filter on the outer row).
    facts = _facts_sql(house="r.house_id", first_day="make_date(r.year, r.month, 1)")
    pending = RentRun.Status.PENDING.value
    sql = (
        f"SELECT r.*, facts.water_price AS facts_water_price, "
        f"facts.upkeep_price AS facts_upkeep_price, facts.flats_count AS facts_flats_count, "
        f"facts.max_flat_id AS facts_max_flat_id, facts.flats_count IS NOT NULL AS has_facts "
        f"FROM {RentRun._meta.db_table} r "
        f"LEFT JOIN LATERAL ({facts} WHERE r.status = '{pending}') facts ON true "
        f"WHERE r.{RentRun._meta.pk.column} = %s FOR UPDATE OF r"
    )
    run = next(iter(RentRun.objects.raw(sql, params)), None)
    if run is None:
        return None, None
    # raw() sets the columns the model lacks as plain instance attributes.
    row = vars(run)
    if not row["has_facts"]:
        return run, None
    return run, _month_facts(
        water_price=row["facts_water_price"],
        upkeep_price=row["facts_upkeep_price"],
        flats_count=row["facts_flats_count"],
        max_flat_id=row["facts_max_flat_id"],
    )


def _lock_run_sqlite(params: list[object]) -> tuple[RentRun | None, MonthFacts | None]:
    # SQLite has no row locks: its write transactions (IMMEDIATE, see the settings) take the
    # database's write lock at BEGIN, which serializes the runs.
    sql = f"SELECT * FROM {RentRun._meta.db_table} WHERE {RentRun._meta.pk.column} = %s"
    return next(iter(RentRun.objects.raw(sql, params)), None), None
