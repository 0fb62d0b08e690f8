"""The raw SQL of imports and exports, each PostgreSQL statement beside its portable twin.

A readings import checks and writes a batch of thousands of rows with a few set-based
statements, the ids passed as one array parameter (compiling the ORM's `IN` list of thousands
of ids cost more than running the query). Other databases (the SQLite quick start) get the
same answers from the ORM or from plain statements; `core.db.on_postgresql` picks one. The
exports' statements are portable as they are.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.db import connection
from django.utils import timezone

from billing.models import Charge
from core.db import on_postgresql
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.services.meters import reading_neighbours
from imports.models import ImportKey

T = {
    "street": Street._meta.db_table,
    "house": House._meta.db_table,
    "flat": Flat._meta.db_table,
    "meter": WaterMeter._meta.db_table,
    "reading": MeterReading._meta.db_table,
    "tariff": Tariff._meta.db_table,
    "charge": Charge._meta.db_table,
    "key": ImportKey._meta.db_table,
}


class MeterInfo(NamedTuple):
    """What the reading rule needs of a meter (a tuple: far cheaper than a model instance)."""

    pk: int
    serial: str
    flat_id: int
    installed_on: date | None
    removed_on: date | None
    initial_value: Decimal


METER_FIELDS = ("pk", "serial", "flat_id", "installed_on", "removed_on", "initial_value")


# --- Array parameters (PostgreSQL only) ------------------------------------------------------

# A batch passes each column of its thousands of rows as one array parameter. psycopg2 adapts a
# list element by element through Python (~3 us each: a third of an import's client CPU went to
# quoting); these build the same array literal with one join, passed as one text parameter
# and cast in the statement (`%s::bigint[]`).


def int_array(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def numeric_array(values: Iterable[Decimal | None]) -> str:
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def text_array(values: Iterable[str | None]) -> str:
    """Each element double-quoted, its backslashes and double quotes escaped (the array
    literal's own quoting; the literal as a whole is then a parameter like any other)."""
    return (
        "{"
        + ",".join(
            "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in values
        )
        + "}"
    )


# --- Per batch transaction settings (PostgreSQL only) -----------------------------------------


def relax_commit() -> None:
    """This transaction's commit does not wait for its WAL flush. Safe for an import batch:
    the batch and the cursor that records it commit together, so a lost commit is a batch
    done again."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def without_jit() -> None:
    """The batch lookups are cheap per row but estimated dear: compiling them (JIT) took
    longer than running them."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


# --- Readings: each row's house, flat and meters ---------------------------------------------

# Each input row with its house, flat, and the flat's meters (only the one with the row's
# serial, when it gives one). A batch names a few houses many times: each distinct address is
# looked up once; then flat and meter are lateral lookups by a unique index per row (OFFSET 0
# keeps the planner from turning them into hash joins over whole tables).
RESOLVE_SQL = """
WITH i AS (
    SELECT * FROM unnest(%s::int[], %s::text[], %s::int[], %s::int[], %s::text[])
        AS i(line, street, house, flat, serial)
), a AS (
    SELECT a.street, a.house, h.id
    FROM (SELECT DISTINCT street, house FROM i) a
    JOIN {street} s ON s.name = a.street
    JOIN {house} h ON h.street_id = s.id AND h.number = a.house
)
SELECT i.line, a.id, f.id, m.id, m.serial, m.flat_id, m.installed_on, m.removed_on,
       m.initial_value
FROM i
LEFT JOIN a ON a.street = i.street AND a.house = i.house
LEFT JOIN LATERAL (
    SELECT f.id FROM {flat} f WHERE f.house_id = a.id AND f.number = i.flat OFFSET 0
) f ON true
LEFT JOIN LATERAL (
    SELECT * FROM {meter} m
    WHERE m.flat_id = f.id AND (i.serial IS NULL OR m.serial = i.serial) OFFSET 0
) m ON true
ORDER BY i.line, m.id
""".format(**T)

Address = tuple[int, str, int, int, str | None]  # line, street, house, flat, serial


def resolve_addresses(addresses: Sequence[Address]) -> list[tuple]:
    """Per address (line, street, house, flat, serial), in line order: one tuple (line,
    house id, flat id, *meter) per candidate meter (the flat's meters, or the one with the
    serial), or one with the missing parts None."""
    if not on_postgresql():
        return _resolve_addresses_portable(addresses)
    lines, streets, houses, flats, serials = list(zip(*addresses, strict=True)) or [()] * 5
    with connection.cursor() as cursor:
        cursor.execute(
            RESOLVE_SQL,
            [
                int_array(lines),
                text_array(streets),
                int_array(houses),
                int_array(flats),
                text_array(serials),
            ],
        )
        return cursor.fetchall()


def _resolve_addresses_portable(addresses: Sequence[Address]) -> list[tuple]:
    """RESOLVE_SQL with the ORM: houses, flats, then the flats' meters, one query each."""
    wanted = {(street, house) for _, street, house, _, _ in addresses}
    houses = {
        (street, number): pk
        for pk, street, number in House.objects.filter(
            street__name__in={street for street, _ in wanted},
            number__in={number for _, number in wanted},
        ).values_list("pk", "street__name", "number")
        if (street, number) in wanted
    }
    flats = {
        (house_id, number): pk
        for pk, house_id, number in Flat.objects.filter(
            house_id__in=set(houses.values()),
            number__in={flat for _, _, _, flat, _ in addresses},
        ).values_list("pk", "house_id", "number")
    }
    meters: dict[int | None, list[tuple]] = defaultdict(list)  # looked up by a flat or None
    for values in (
        WaterMeter.objects.filter(flat_id__in=set(flats.values()))
        .order_by("pk")
        .values_list(*METER_FIELDS)
    ):
        meters[values[2]].append(values)
    found = []
    for line, street, house, flat, serial in addresses:
        house_id = houses.get((street, house))
        flat_id = flats.get((house_id, flat)) if house_id is not None else None
        candidates = [
            m for m in meters.get(flat_id, ()) if serial is None or m[1] == serial
        ]  # fmt: skip
        if not candidates:
            found.append((line, house_id, flat_id, *[None] * len(METER_FIELDS)))
        found.extend((line, house_id, flat_id, *meter) for meter in candidates)
    return found


# --- Readings: what the meter service's rule reads -------------------------------------------

# reading_neighbours() of the meter service (earlier max, later min, this month's count) and
# this month's reading, per meter of the batch, each through the (meter, year, month) index.
FACTS_SQL = """
SELECT t.id, r.earlier, r.later, r.same, r.pk, r.value
FROM unnest(%(ids)s::bigint[]) AS t(id)
CROSS JOIN LATERAL (
    SELECT max(value) FILTER (WHERE year * 12 + month < %(period)s) AS earlier,
           min(value) FILTER (WHERE year * 12 + month > %(period)s) AS later,
           count(*) FILTER (WHERE year = %(y)s AND month = %(m)s) AS same,
           max(id) FILTER (WHERE year = %(y)s AND month = %(m)s) AS pk,
           max(value) FILTER (WHERE year = %(y)s AND month = %(m)s) AS value
    FROM {reading} WHERE meter_id = t.id
) r
""".format(**T)


def reading_facts(meter_ids: list[int], year: int, month: int) -> tuple[dict, dict]:
    """The meter service's neighbours per meter ({earlier, later, same}), and this month's
    reading per meter as (id, value)."""
    if not on_postgresql():
        return reading_facts_portable(meter_ids, year, month)
    neighbours, existing = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(
            FACTS_SQL,
            {"ids": int_array(meter_ids), "period": year * 12 + month, "y": year, "m": month},
        )
        for meter_id, earlier, later, same, pk, value in cursor.fetchall():
            neighbours[meter_id] = {"earlier": earlier, "later": later, "same": same}
            if pk is not None:
                existing[meter_id] = (pk, value)
    return neighbours, existing


def reading_facts_portable(meter_ids: list[int], year: int, month: int) -> tuple[dict, dict]:
    """reading_facts with the meter service's own query and one for this month's readings."""
    existing = {
        meter_id: (pk, value)
        for meter_id, pk, value in MeterReading.objects.filter(
            meter_id__in=meter_ids, year=year, month=month
        ).values_list("meter_id", "pk", "value")
    }
    return reading_neighbours(meter_ids, year, month), existing


# --- Readings: the meter service's lock, and the write ---------------------------------------

LOCK_SQL = "SELECT id FROM {meter} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE".format(**T)

LOCK_INFO_SQL = """
SELECT id, serial, flat_id, installed_on, removed_on, initial_value FROM {meter}
WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
""".format(**T)


def lock_meters(meter_ids: list[int]) -> None:
    """The meter service's lock, in id order: no API write interleaves with a batch's checks."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(LOCK_SQL, [int_array(meter_ids)])
        return
    list(
        WaterMeter.objects.select_for_update()
        .filter(pk__in=meter_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_meter_infos(meter_ids: list[int]) -> dict[int, MeterInfo]:
    """lock_meters, returning what the reading rule needs of each meter still there."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(LOCK_INFO_SQL, [int_array(meter_ids)])
            rows = cursor.fetchall()
    else:
        rows = list(
            WaterMeter.objects.select_for_update()
            .filter(pk__in=meter_ids)
            .order_by("pk")
            .values_list(*METER_FIELDS)
        )
    return {values[0]: MeterInfo(*values) for values in rows}


INSERT_READINGS_SQL = """
INSERT INTO {reading} (meter_id, year, month, value, created_at)
SELECT m, %s, %s, v, %s FROM unnest(%s::bigint[], %s::numeric[]) AS t(m, v)
""".format(**T)


def insert_readings(year: int, month: int, meter_ids: list[int], values: list[Decimal]) -> None:
    """One month's new readings, in one statement."""
    if not meter_ids:
        return
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_READINGS_SQL,
                [year, month, timezone.now(), int_array(meter_ids), numeric_array(values)],
            )
        return
    MeterReading.objects.bulk_create(
        MeterReading(meter_id=meter_id, year=year, month=month, value=value)
        for meter_id, value in zip(meter_ids, values, strict=True)
    )


# --- The keys a job has met (ImportKey) ------------------------------------------------------

SEEN_KEYS_SQL = "SELECT key, row FROM {key} WHERE job_id = %s AND key = ANY(%s::bigint[])".format(
    **T
)
SEEN_KEYS_SQLITE = "SELECT key, row FROM {key} WHERE job_id = %s AND key IN ({keys})"

# The batch's keys, each checked against the earlier batches' by the (job, key) unique index
# as it is inserted: the ones not returned were met before (one statement where a lookup and
# an insert each walked that index).
RECORD_KEYS_SQL = """
INSERT INTO {key} (job_id, key, row, value)
SELECT %s, k, r, v FROM unnest(%s::bigint[], %s::int[], %s::numeric[]) AS t(k, r, v)
ON CONFLICT (job_id, key) DO NOTHING
RETURNING key
""".format(**T)


def record_keys(
    job_pk: UUID | str, keys: list[int], rows: list[int], values: list[Decimal | None]
) -> dict[int, int]:
    """Record the keys met on these rows (each once; with a reading's value, for the write
    pass), and return the ones the job had met already, with the row they were met on."""
    if not keys:
        return {}
    if not on_postgresql():
        return _record_keys_portable(job_pk, keys, rows, values)
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_KEYS_SQL, [job_pk, int_array(keys), int_array(rows), numeric_array(values)]
        )
        recorded = {key for (key,) in cursor.fetchall()}
        if len(recorded) == len(keys):
            return {}
        cursor.execute(SEEN_KEYS_SQL, [job_pk, int_array(k for k in keys if k not in recorded)])
        return dict(cursor.fetchall())


def _record_keys_portable(
    job_pk: UUID | str, keys: list[int], rows: list[int], values: list[Decimal | None]
) -> dict[int, int]:
    with connection.cursor() as cursor:
        statement = SEEN_KEYS_SQLITE.format(key=T["key"], keys=", ".join(["%s"] * len(keys)))
        cursor.execute(statement, [job_pk, *keys])
        seen = dict(cursor.fetchall())
    ImportKey.objects.bulk_create(
        ImportKey(job_id=job_pk, key=key, row=row, value=value)
        for key, row, value in zip(keys, rows, values, strict=True)
        if key not in seen
    )
    return seen


# --- Exports (portable statements) -----------------------------------------------------------

REGISTRY_SQL = """
SELECT s.name, h.number, f.number, f.area, m.serial, m.installed_on, m.initial_value, m.removed_on
FROM {house} h
JOIN {street} s ON s.id = h.street_id
LEFT JOIN {flat} f ON f.house_id = h.id
LEFT JOIN {meter} m ON m.flat_id = f.id
ORDER BY s.name, h.number, f.number, m.id
""".format(**T)

# Every flat of every house, with each meter installed in the month and its reading if any.
READINGS_SQL = """
SELECT s.name, h.number, f.number, m.serial, %(year)s, %(month)s, r.value
FROM {flat} f
JOIN {house} h ON h.id = f.house_id
JOIN {street} s ON s.id = h.street_id
LEFT JOIN {meter} m ON m.flat_id = f.id
    AND (m.installed_on IS NULL OR m.installed_on <= %(end)s)
    AND (m.removed_on IS NULL OR m.removed_on >= %(start)s)
LEFT JOIN {reading} r ON r.meter_id = m.id AND r.year = %(year)s AND r.month = %(month)s
ORDER BY s.name, h.number, f.number, m.id
""".format(**T)

TARIFFS_SQL = """
SELECT t.kind, t.price, t.valid_from, s.name, h.number
FROM {tariff} t
LEFT JOIN {house} h ON h.id = t.house_id
LEFT JOIN {street} s ON s.id = h.street_id
ORDER BY t.kind, s.name, h.number, t.valid_from
""".format(**T)

CHARGES_SQL = """
SELECT s.name, h.number, f.number, c.area, c.status, c.water_consumption, c.water_tariff,
       c.water_cost, c.upkeep_tariff, c.upkeep_cost, c.total
FROM {charge} c
JOIN {flat} f ON f.id = c.flat_id
JOIN {house} h ON h.id = c.house_id
JOIN {street} s ON s.id = h.street_id
WHERE c.year = %(year)s AND c.month = %(month)s
ORDER BY s.name, h.number, f.number
""".format(**T)

EXPORT_CHUNK = 2000


def export_rows(statement: str, params: dict | None = None) -> Iterator[tuple]:
    """An export statement's rows through a server-side cursor (PostgreSQL), a chunk at a
    time: no export holds the whole table in memory."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(statement, params or {})
        while chunk := cursor.fetchmany(EXPORT_CHUNK):
            yield from chunk
