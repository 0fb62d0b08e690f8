"""What each import kind reads, checks and writes, a batch of rows at a time.

Every kind checks a row with the housing services' own rules (the reading rule of the meter
service, the registry's and tariffs' constraints and messages) and reports a failing row as a
row error with its column, never as an exception. Lookups are a few queries per batch, and
readings are written with one multi-row INSERT per batch.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from housing.models import (
    QUANTITY_DECIMAL_PLACES,
    QUANTITY_MAX_DIGITS,
    Flat,
    House,
    MeterReading,
    Street,
    Tariff,
    WaterMeter,
)
from housing.periods import validate_month
from housing.services import registry
from housing.services.meters import is_meter_active, reading_error, reading_neighbours
from imports import formats
from imports.formats import CellError, Column

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


class Row:
    """A line of the file: its cells, parsed values, errors, and what checking decided."""

    __slots__ = ("line", "cells", "values", "errors", "outcome", "key", "action", "staged")

    def __init__(self, line: int, cells: list):
        self.line, self.cells = line, cells
        self.values: dict = {}
        self.errors: list = []
        self.outcome: str | None = None
        self.key: int | None = None
        self.action = None
        self.staged = None  # what the write pass needs beside the key (a reading's value)

    def fail(self, column: str, message: str, value=None) -> None:
        if value is None:
            value = self.values.get(column)
        self.errors.append({"column": column, "value": formats.raw(value), "message": message})


def text_key(text: str) -> int:
    """A text key as a 63-bit number (a btree of integers is far cheaper than of collated
    text); two different keys of one file colliding is a 1 in 10^8 chance at a million rows."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def _qty(value) -> Decimal:
    return formats.decimal(value, QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS)


def _money(value) -> Decimal:
    return formats.decimal(value, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS)


def _positive_int(value) -> int:
    number = formats.integer(value)
    if number < 1:
        raise CellError("Must be 1 or more.")
    if number > 2147483647:
        raise CellError("Too large.")
    return number


def _year_or_month(value) -> int:
    number = formats.integer(value)
    if not 0 <= number <= 9999:
        raise CellError("Not a year or month.")
    return number


class Kind:
    """A kind of import: its columns (with a parser each) and how a batch is checked/written."""

    name = ""
    columns: list[Column] = []
    parsers: dict = {}

    def plan(self, colmap: dict[str, int]) -> list[tuple]:
        """Per column: (name, index in the file or None, parser, value required)."""
        return [
            (c.name, colmap.get(c.name), self.parsers.get(c.name, formats.text),
             c.name in self.required_values)
            for c in self.columns
        ]  # fmt: skip

    def parse(self, line: int, cells: list, plan: list[tuple]) -> Row | None:
        """The row's values by column name, or None for an empty line. (The hot loop of an
        import: written for speed.)"""
        row = Row(line, cells)
        values = row.values
        width = len(cells)
        missing = []
        for name, index, parser, required in plan:
            cell = cells[index] if index is not None and index < width else None
            if cell is None or (cell.__class__ is str and not cell.strip()):
                values[name] = None
                if required:
                    missing.append(name)
                continue
            try:
                values[name] = parser(cell)
            except CellError as exc:
                values[name] = cell
                row.fail(name, str(exc), cell)
        if missing:
            if len(missing) == len(plan) or all(formats.is_empty(cell) for cell in cells):
                return None  # an empty line
            for name in missing:
                row.fail(name, "A value is required.", "")
        return row

    required_values: tuple[str, ...] = ()
    staged_write = False

    def check(self, job, rows: list[Row], *, write: bool) -> None:
        raise NotImplementedError

    def write(self, job, rows: list[Row]) -> None:
        raise NotImplementedError


def _errors_of(exc: ValidationError) -> list[str]:
    return [m for messages in exc.message_dict.values() for m in messages]


# --- Readings --------------------------------------------------------------------------------


class MeterInfo(NamedTuple):
    """What the reading rule needs of a meter (a tuple: far cheaper than a model instance)."""

    pk: int
    serial: str
    flat_id: int
    installed_on: date | None
    removed_on: date | None
    initial_value: Decimal


METER_FIELDS = ("pk", "serial", "flat_id", "installed_on", "removed_on", "initial_value")

_T = {
    "street": Street._meta.db_table,
    "house": House._meta.db_table,
    "flat": Flat._meta.db_table,
    "meter": WaterMeter._meta.db_table,
    "reading": MeterReading._meta.db_table,
}

# PostgreSQL: each input row with its house, flat, and the flat's meters (only the one with
# the row's serial, when it gives one). A batch names a few houses many times: each distinct
# address is looked up once; then flat and meter are lateral lookups by a unique index per row
# (OFFSET 0 keeps the planner from turning them into hash joins over whole tables).
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
""".format(**_T)

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
""".format(**_T)

LOCK_SQL = "SELECT id FROM {meter} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE".format(**_T)

LOCK_INFO_SQL = """
SELECT id, serial, flat_id, installed_on, removed_on, initial_value FROM {meter}
WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE
""".format(**_T)

INSERT_SQL = """
INSERT INTO {reading} (meter_id, year, month, value, created_at)
SELECT m, %s, %s, v, %s FROM unnest(%s::bigint[], %s::numeric[]) AS t(m, v)
""".format(**_T)


class Readings(Kind):
    """One month of meter readings; a flat by street, house and flat number, its meter by
    serial (needed only when the flat has several meters). An empty value skips the row, so
    a month's export (flats without readings included) is a ready template."""

    name = "readings"
    columns = [
        Column("street", "Улица", example="Lenina St", aliases=("street name",)),
        Column("house", "Дом", example=12, aliases=("house number", "номер дома")),
        Column("flat", "Квартира", example=5, aliases=("flat number", "apartment", "кв")),
        Column(
            "serial",
            "Серийный номер",
            required=False,
            example="SN-000123",
            aliases=("meter", "meter serial", "счетчик", "номер счетчика"),
        ),
        Column("year", "Год", example=2024),
        Column("month", "Месяц", example=3),
        Column("value", "Показание", example="123.456", aliases=("reading", "показания")),
    ]
    parsers = {
        "street": formats.text,
        "house": _positive_int,
        "flat": _positive_int,
        "serial": formats.text,
        "year": _year_or_month,
        "month": _year_or_month,
        "value": _qty,
    }
    required_values = ("street", "house", "flat", "year", "month")

    def _period(self, job, rows: list[Row]) -> list[Row]:
        """The file is one month (the first row's); rows of another month are errors."""
        ready = []
        for row in rows:
            if row.errors:
                continue
            if row.values["value"] is None:
                row.outcome = UNCHANGED  # nothing to record for this flat
                continue
            period = [row.values["year"], row.values["month"]]
            fixed = job.state.get("period")
            if fixed is None:
                try:
                    validate_month(*period)
                except ValidationError as exc:
                    for column, messages in exc.message_dict.items():
                        row.fail(column, " ".join(messages))
                    continue
                job.state["period"] = fixed = period
            if period != fixed:
                row.fail(
                    "month",
                    f"The file is for {fixed[0]}-{fixed[1]:02d}: import one month per file.",
                    f"{period[0]}-{period[1]:02d}",
                )
                continue
            ready.append(row)
        return ready

    def _resolve(self, rows: list[Row], year: int, month: int) -> None:
        """Each row's meter: by serial (on that flat), else the flat's only active meter."""
        serials = {row.values["serial"] for row in rows if row.values["serial"]}
        by_serial = {}
        if serials:
            for values in WaterMeter.objects.filter(serial__in=serials).values_list(
                *METER_FIELDS, "flat__number", "flat__house__number", "flat__house__street__name"
            ):
                by_serial[values[1]] = (MeterInfo(*values[:6]), values[6:])
        unresolved = []
        for row in rows:
            v = row.values
            found = by_serial.get(v["serial"]) if v["serial"] else None
            if found and found[1] == (v["flat"], v["house"], v["street"]):
                row.action = found[0]
            else:
                unresolved.append(row)
        if not unresolved:
            return
        flats = self._flats({(r.values["street"], r.values["house"]) for r in unresolved}, rows)
        active: dict[int, list[MeterInfo]] = defaultdict(list)
        flat_ids = set(flats.values())
        for values in (
            WaterMeter.objects.filter(flat_id__in=flat_ids)
            .order_by("pk")
            .values_list(*METER_FIELDS)
        ):
            meter = MeterInfo(*values)
            if is_meter_active(
                installed_on=meter.installed_on, removed_on=meter.removed_on, year=year, month=month
            ):
                active[meter.flat_id].append(meter)
        for row in unresolved:
            v = row.values
            flat_id = flats.get((v["street"], v["house"], v["flat"]))
            if flat_id is None:
                if (v["street"], v["house"], None) not in flats:
                    row.fail("house", f"No house {v['house']} on {v['street']}.", v["house"])
                else:
                    row.fail("flat", f"No flat [{v['flat']}] in this house.")
            elif v["serial"]:
                row.fail("serial", f"Flat {v['flat']} has no meter {v['serial']!r}.")
            else:
                self._only_active(row, active[flat_id], year, month)

    def _flats(self, houses: set, rows) -> dict:
        """(street, house, flat) -> flat id, and (street, house, None) for each house found."""
        streets = {street for street, _ in houses}
        numbers = {number for _, number in houses}
        found = {}
        house_ids = {}
        for pk, street, number in House.objects.filter(
            street__name__in=streets, number__in=numbers
        ).values_list("pk", "street__name", "number"):
            if (street, number) in houses:
                house_ids[pk] = (street, number)
                found[(street, number, None)] = pk
        flat_numbers = {row.values["flat"] for row in rows}
        for pk, house_id, number in Flat.objects.filter(
            house_id__in=house_ids, number__in=flat_numbers
        ).values_list("pk", "house_id", "number"):
            found[(*house_ids[house_id], number)] = pk
        return found

    @staticmethod
    def _facts(meter_ids, year: int, month: int) -> tuple[dict, dict]:
        """The meter service's neighbours per meter, and this month's reading (id, value)."""
        existing = {
            meter_id: (pk, value)
            for meter_id, pk, value in MeterReading.objects.filter(
                meter_id__in=meter_ids, year=year, month=month
            ).values_list("meter_id", "pk", "value")
        }
        return reading_neighbours(meter_ids, year, month), existing

    @staticmethod
    def _facts_sql(meter_ids, year: int, month: int) -> tuple[dict, dict]:
        """_facts in one statement with the ids as one array parameter (compiling the ORM's
        IN list of thousands of ids cost more than running the query)."""
        neighbours, existing = {}, {}
        with connection.cursor() as cursor:
            cursor.execute(
                FACTS_SQL, {"ids": meter_ids, "period": year * 12 + month, "y": year, "m": month}
            )
            for meter_id, earlier, later, same, pk, value in cursor.fetchall():
                neighbours[meter_id] = {"earlier": earlier, "later": later, "same": same}
                if pk is not None:
                    existing[meter_id] = (pk, value)
        return neighbours, existing

    def _resolve_sql(self, rows: list[Row], year: int, month: int) -> None:
        """_resolve in one statement: each row's house, flat and candidate meters."""
        lines, streets, houses, flats, serials = [], [], [], [], []
        for r in rows:
            v = r.values
            lines.append(r.line)
            streets.append(v["street"])
            houses.append(v["house"])
            flats.append(v["flat"])
            serials.append(v["serial"] or None)
        first: dict[int, tuple] = {}
        more: dict[int, list] = defaultdict(list)
        with connection.cursor() as cursor:
            cursor.execute(RESOLVE_SQL, [lines, streets, houses, flats, serials])
            for found in cursor.fetchall():
                if found[0] in first:
                    more[found[0]].append(found)
                else:
                    first[found[0]] = found
        for row in rows:
            line, house_id, flat_id, meter_id, *meter = first[row.line]
            v = row.values
            if house_id is None:
                row.fail("house", f"No house {v['house']} on {v['street']}.", v["house"])
            elif flat_id is None:
                row.fail("flat", f"No flat [{v['flat']}] in this house.")
            elif v["serial"]:
                if meter_id is not None:
                    row.action = MeterInfo(meter_id, *meter)
                else:
                    row.fail("serial", f"Flat {v['flat']} has no meter {v['serial']!r}.")
            else:
                candidates = [first[row.line], *more.get(row.line, ())]
                meters = [MeterInfo(*found[3:]) for found in candidates if found[3] is not None]
                self._only_active(row, meters, year, month)

    @staticmethod
    def _only_active(row: Row, meters: list[MeterInfo], year: int, month: int) -> None:
        """A row without a serial: the flat's only meter installed in the month."""
        v = row.values
        active = [
            m
            for m in meters
            if is_meter_active(
                installed_on=m.installed_on, removed_on=m.removed_on, year=year, month=month
            )
        ]
        if len(active) == 1:
            row.action = active[0]
        elif not active:
            row.fail(
                "serial",
                f"Flat {v['flat']} has no meter installed in {year}-{month:02d} "
                "(install one first).",
                "",
            )
        else:
            serials = ", ".join(m.serial for m in active)
            row.fail("serial", f"Flat {v['flat']} has several meters ({serials}): give serial.")

    def check(self, job, rows: list[Row], *, write: bool) -> None:
        rows = self._period(job, rows)
        if not rows:
            return
        year, month = job.state["period"]
        postgres = connection.vendor == "postgresql"
        if postgres:
            # These lookups are cheap per row but estimated dear: compiling them (JIT) took
            # longer than running them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        (self._resolve_sql if postgres else self._resolve)(rows, year, month)
        rows = [row for row in rows if not row.errors]
        meter_ids = sorted({row.action.pk for row in rows})
        if write:
            # The meter service's lock: no API write interleaves with this batch's checks.
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute(LOCK_SQL, [meter_ids])
            else:
                list(
                    WaterMeter.objects.select_for_update()
                    .filter(pk__in=meter_ids)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
        neighbours, existing = (self._facts_sql if postgres else self._facts)(
            meter_ids, year, month
        )
        self._decide(rows, year, month, neighbours, existing)

    @staticmethod
    def _decide(rows: list[Row], year: int, month: int, neighbours, existing) -> None:
        """Each row's outcome under the meter service's rule (the row's action is its meter)."""
        for row in rows:
            meter, value = row.action, row.values["value"]
            row.key, row.staged = meter.pk, value
            known = neighbours.get(meter.pk, {})
            current = existing.get(meter.pk)
            if current is not None:
                if current[1] == value:
                    row.outcome = UNCHANGED
                    continue
                # A correction: the rule of update_reading (this month's reading aside).
                error = reading_error(meter, value, year, month, {**known, "same": 0})
                row.outcome, row.action = UPDATED, (meter, current[0])
            else:
                error = reading_error(meter, value, year, month, known)
                row.outcome = CREATED
            if error:
                row.fail("value", error)
                row.outcome = None

    # all_or_nothing: the write pass takes the rows the validate pass resolved (ImportKey: the
    # line, its meter and value) instead of reading and resolving the file again.
    staged_write = True

    def check_staged(self, job, staged: list[tuple[int, int, Decimal]]) -> list[Row]:
        """Check a batch of staged rows (line, meter id, value) again, under the meters' lock;
        a row whose meter changed since the validate pass fails like any other."""
        year, month = job.state["period"]
        meter_ids = sorted({meter_id for _, meter_id, _ in staged})
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(LOCK_INFO_SQL, [meter_ids])
                meters = {values[0]: MeterInfo(*values) for values in cursor.fetchall()}
        else:
            meters = {
                values[0]: MeterInfo(*values)
                for values in WaterMeter.objects.select_for_update()
                .filter(pk__in=meter_ids)
                .order_by("pk")
                .values_list(*METER_FIELDS)
            }
        rows = []
        for line, meter_id, value in staged:
            row = Row(line, [])
            row.values["value"] = value
            row.action = meters.get(meter_id)
            if row.action is None:
                row.fail("value", "The meter was deleted during the import.")
            rows.append(row)
        ready = [row for row in rows if not row.errors]
        neighbours, existing = (
            self._facts_sql if connection.vendor == "postgresql" else self._facts
        )(meter_ids, year, month)
        self._decide(ready, year, month, neighbours, existing)
        return rows

    def write(self, job, rows: list[Row]) -> None:
        year, month = job.state["period"]
        created = [row for row in rows if row.outcome == CREATED]
        if created and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    INSERT_SQL,
                    [
                        year,
                        month,
                        timezone.now(),
                        [row.action.pk for row in created],
                        [row.values["value"] for row in created],
                    ],
                )
        elif created:
            MeterReading.objects.bulk_create(
                MeterReading(
                    meter_id=row.action.pk, year=year, month=month, value=row.values["value"]
                )
                for row in created
            )
        updates = [
            MeterReading(pk=row.action[1], value=row.values["value"])
            for row in rows
            if row.outcome == UPDATED
        ]
        MeterReading.objects.bulk_update(updates, ["value"], batch_size=1000)


# --- Houses, flats and meters ----------------------------------------------------------------


@dataclass
class RegistryAction:
    street: str
    house: int
    flat: int | None
    area: Decimal | None
    new_house: bool = False
    new_flat: bool = False
    resize_flat_id: int | None = None
    new_meter: bool = False


class Houses(Kind):
    """The registry: one row per meter (a flat without meters, or a house without flats, has
    one row with those cells empty). New streets, houses, flats and meters are created, a
    flat's area is updated; an existing meter must match (meters are replaced, not edited)."""

    name = "houses"
    columns = [
        Column("street", "Улица", example="Lenina St", aliases=("street name",)),
        Column("house", "Дом", example=12, aliases=("house number", "номер дома")),
        Column("flat", "Квартира", required=False, example=5, aliases=("flat number", "apartment")),
        Column("area", "Площадь", required=False, example="54.300", aliases=("area m2",)),
        Column(
            "serial",
            "Серийный номер",
            required=False,
            example="SN-000123",
            aliases=("meter", "meter serial", "счетчик", "номер счетчика"),
        ),
        Column(
            "installed_on",
            "Дата установки",
            required=False,
            example="2020-01-01",
            aliases=("installed",),
        ),
        Column(
            "initial_value",
            "Начальное показание",
            required=False,
            example="0.000",
            aliases=("initial",),
        ),
        Column("removed_on", "Дата снятия", required=False, example="", aliases=("removed",)),
    ]
    parsers = {
        "street": formats.text,
        "house": _positive_int,
        "flat": _positive_int,
        "area": _qty,
        "serial": formats.text,
        "installed_on": formats.day,
        "initial_value": _qty,
        "removed_on": formats.day,
    }
    required_values = ("street", "house")

    def check(self, job, rows: list[Row], *, write: bool) -> None:
        rows = [row for row in rows if not row.errors]
        if not rows:
            return
        streets = {row.values["street"] for row in rows}
        houses = {
            (street, number): pk
            for pk, street, number in House.objects.filter(
                street__name__in=streets, number__in={r.values["house"] for r in rows}
            ).values_list("pk", "street__name", "number")
        }
        flats = {
            (house_id, number): (pk, area)
            for pk, house_id, number, area in Flat.objects.filter(
                house_id__in=set(houses.values()),
                number__in={r.values["flat"] for r in rows if r.values["flat"]},
            ).values_list("pk", "house_id", "number", "area")
        }
        serials = {r.values["serial"] for r in rows if r.values["serial"]}
        meters = {
            values[1]: MeterInfo(*values)
            for values in WaterMeter.objects.filter(serial__in=serials).values_list(*METER_FIELDS)
        }
        planned_houses: set = set()
        planned_flats: dict = {}
        for row in rows:
            self._check_row(row, houses, flats, meters, planned_houses, planned_flats)

    def _check_row(self, row, houses, flats, meters, planned_houses, planned_flats) -> None:
        v = row.values
        if not v["street"].strip():
            row.fail("street", "A street name is required.")
            return
        address = (v["street"], v["house"])
        house_id = houses.get(address)
        action = RegistryAction(street=v["street"], house=v["house"], flat=v["flat"], area=None)
        action.new_house = house_id is None and address not in planned_houses
        existing = None
        if v["flat"] is None:
            for column in ("area", "serial", "installed_on", "initial_value", "removed_on"):
                if v[column] is not None:
                    row.fail("flat", f"A flat number is needed with {column}.", "")
                    return
        else:
            if v["area"] is not None and v["area"] <= 0:
                row.fail("area", "An area must be above 0.")
                return
            existing = flats.get((house_id, v["flat"])) if house_id else None
            planned = planned_flats.get((*address, v["flat"]))
            if existing is not None:
                if v["area"] is not None and v["area"] != existing[1]:
                    action.resize_flat_id, action.area = existing[0], v["area"]
            elif planned is not None:
                if v["area"] is not None and v["area"] != planned[1]:
                    row.fail("area", f"Flat {v['flat']} has area {planned[1]} on row {planned[0]}.")
                    return
            elif v["area"] is None:
                row.fail("area", f"Flat {v['flat']} is new: its area is required.", "")
                return
            else:
                action.new_flat, action.area = True, v["area"]
            if v["serial"] and not self._check_meter(row, existing, meters):
                return
            action.new_meter = bool(v["serial"]) and v["serial"] not in meters
        # Only a row that passes plans what it creates (later rows see it as there).
        planned_houses.add(address)
        if action.new_flat:
            planned_flats[(*address, v["flat"])] = (row.line, v["area"])
        row.key = text_key(v["serial"]) if v["serial"] else None
        row.action = action
        if action.new_house or action.new_flat or action.new_meter:
            row.outcome = CREATED
        else:
            row.outcome = UPDATED if action.resize_flat_id else UNCHANGED

    def _check_meter(self, row, existing_flat, meters) -> bool:
        v = row.values
        meter = meters.get(v["serial"])
        if meter is None:
            if v["initial_value"] is not None and v["initial_value"] < 0:
                row.fail("initial_value", "An initial value cannot be negative.")
                return False
            if v["removed_on"] and v["installed_on"] and v["removed_on"] < v["installed_on"]:
                row.fail("removed_on", "A meter cannot be removed before installation.")
                return False
            return True
        if existing_flat is None or meter.flat_id != existing_flat[0]:
            row.fail("serial", f"Serial {v['serial']!r} is already in use.")
            return False
        for column in ("installed_on", "initial_value", "removed_on"):
            if v[column] is not None and v[column] != getattr(meter, column):
                row.fail(
                    column,
                    f"Meter {meter.serial} has {column} {formats.raw(getattr(meter, column))}: "
                    "an import does not edit meters (record a replacement instead).",
                )
                return False
        return True

    def write(self, job, rows: list[Row]) -> None:
        """Create what the rows need (houses through the registry service), in file order;
        what already exists, e.g. created by an earlier batch, is looked up, not repeated."""
        houses = self._houses({(r.action.street, r.action.house) for r in rows})
        for row in rows:
            address = (row.action.street, row.action.house)
            if address in houses:
                continue
            try:
                houses[address] = registry.create_house(
                    street_name=address[0], number=address[1]
                ).pk
            except ValidationError as exc:
                row.fail("house", " ".join(_errors_of(exc)))
        rows = [r for r in rows if not r.errors and r.action.flat]
        wanted = {(houses[(r.action.street, r.action.house)], r.action.flat): r for r in rows}
        flats = self._flats(wanted)
        Flat.objects.bulk_create(
            Flat(house_id=house_id, number=number, area=row.action.area or row.values["area"])
            for (house_id, number), row in wanted.items()
            if (house_id, number) not in flats
        )
        resized = {r.action.resize_flat_id: r.action.area for r in rows if r.action.resize_flat_id}
        Flat.objects.bulk_update([Flat(pk=pk, area=area) for pk, area in resized.items()], ["area"])
        need = [r for r in rows if r.action.new_meter]
        if not need:
            return
        flats = self._flats(wanted)
        WaterMeter.objects.bulk_create(
            WaterMeter(
                flat_id=flats[(houses[(r.action.street, r.action.house)], r.action.flat)],
                serial=r.values["serial"],
                installed_on=r.values["installed_on"],
                removed_on=r.values["removed_on"],
                initial_value=r.values["initial_value"] or Decimal(0),
            )
            for r in need
        )

    @staticmethod
    def _houses(addresses: set) -> dict:
        found = House.objects.filter(
            street__name__in={a[0] for a in addresses}, number__in={a[1] for a in addresses}
        ).values_list("pk", "street__name", "number")
        return {
            (street, number): pk for pk, street, number in found if (street, number) in addresses
        }

    @staticmethod
    def _flats(keys) -> dict:
        found = Flat.objects.filter(
            house_id__in={k[0] for k in keys}, number__in={k[1] for k in keys}
        ).values_list("pk", "house_id", "number")
        return {(house_id, number): pk for pk, house_id, number in found}


# --- Tariffs ---------------------------------------------------------------------------------

KIND_NAMES = {
    "water": Tariff.Kind.WATER,
    "вода": Tariff.Kind.WATER,
    "водоснабжение": Tariff.Kind.WATER,
    "upkeep": Tariff.Kind.UPKEEP,
    "содержание": Tariff.Kind.UPKEEP,
    "содержание общего имущества": Tariff.Kind.UPKEEP,
}
KIND_NAMES.update({label.lower(): value for value, label in Tariff.Kind.choices})


def _tariff_kind(value) -> str:
    kind = KIND_NAMES.get(formats.normalize_header(value))
    if kind is None:
        raise CellError("Not a tariff kind (water or upkeep).")
    return kind


class Tariffs(Kind):
    """Prices from a date on, globally (street and house empty) or for one house."""

    name = "tariffs"
    columns = [
        Column("kind", "Вид", example="water", aliases=("tariff", "тариф", "вид тарифа")),
        Column("price", "Цена", example="45.50", aliases=("price rub", "тариф руб", "стоимость")),
        Column("valid_from", "Действует с", example="2024-01-01", aliases=("from", "с")),
        Column("street", "Улица", required=False, example="", aliases=("street name",)),
        Column("house", "Дом", required=False, example="", aliases=("house number",)),
    ]
    parsers = {
        "kind": _tariff_kind,
        "price": _money,
        "valid_from": formats.day,
        "street": formats.text,
        "house": _positive_int,
    }
    required_values = ("kind", "price", "valid_from")

    def check(self, job, rows: list[Row], *, write: bool) -> None:
        rows = [row for row in rows if not row.errors]
        addresses = {(r.values["street"], r.values["house"]) for r in rows if r.values["house"]}
        houses = {
            (street, number): pk
            for pk, street, number in House.objects.filter(
                street__name__in={a[0] for a in addresses}, number__in={a[1] for a in addresses}
            ).values_list("pk", "street__name", "number")
        }
        tariffs = {
            (t.kind, t.house_id, t.valid_from): t
            for t in Tariff.objects.filter(valid_from__in={r.values["valid_from"] for r in rows})
        }
        for row in rows:
            v = row.values
            house_id = None
            if bool(v["street"]) != bool(v["house"]):
                row.fail("house", "Give both street and house for a house tariff, or neither.")
                continue
            if v["house"]:
                house_id = houses.get((v["street"], v["house"]))
                if house_id is None:
                    row.fail("house", f"No house {v['house']} on {v['street']}.")
                    continue
            if v["price"] < 0:
                row.fail("price", "A price cannot be negative.")
                continue
            existing = tariffs.get((v["kind"], house_id, v["valid_from"]))
            row.key = text_key(f"{v['kind']}|{house_id or ''}|{v['valid_from']}")
            row.action = (house_id, existing)
            if existing is None:
                row.outcome = CREATED
            else:
                row.outcome = UNCHANGED if existing.price == v["price"] else UPDATED

    def write(self, job, rows: list[Row]) -> None:
        for row in rows:
            house_id, existing = row.action
            try:
                if existing is None:
                    registry.create_tariff(
                        kind=row.values["kind"],
                        price=row.values["price"],
                        valid_from=row.values["valid_from"],
                        house=House(pk=house_id) if house_id else None,
                    )
                else:
                    registry.update_tariff(tariff=existing, price=row.values["price"])
            except ValidationError as exc:
                row.fail("price", " ".join(_errors_of(exc)))


KINDS: dict[str, Kind] = {kind.name: kind for kind in (Readings(), Houses(), Tariffs())}
