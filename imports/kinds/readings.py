"""The readings kind: one month of meter readings, checked with the meter service's rule."""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from housing.models import MeterReading
from housing.periods import validate_month
from housing.services.meters import is_meter_active, reading_error
from imports import formats, sql
from imports.formats import Column
from imports.kinds.base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Kind,
    Row,
    Staged,
    positive_int,
    quantity,
    year_or_month,
)
from imports.models import ImportJob
from imports.sql import MeterInfo


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
        "house": positive_int,
        "flat": positive_int,
        "serial": formats.text,
        "year": year_or_month,
        "month": year_or_month,
        "value": quantity,
    }
    required_values = ("street", "house", "flat", "year", "month")

    def _period(self, job: ImportJob, rows: list[Row]) -> list[Row]:
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
                    _("The file is for %(month)s: import one month per file.")
                    % {"month": f"{fixed[0]}-{fixed[1]:02d}"},
                    f"{period[0]}-{period[1]:02d}",
                )
                continue
            ready.append(row)
        return ready

    def _resolve(self, rows: list[Row], year: int, month: int) -> None:
        """Each row's meter: by serial (on that flat), else the flat's only active meter."""
        first: dict[int, tuple] = {}
        more: dict[int, list] = defaultdict(list)
        found = sql.resolve_addresses(
            [
                (
                    r.line,
                    r.values["street"],
                    r.values["house"],
                    r.values["flat"],
                    r.values["serial"] or None,
                )
                for r in rows
            ]  # fmt: skip
        )
        for candidate in found:
            if candidate[0] in first:
                more[candidate[0]].append(candidate)
            else:
                first[candidate[0]] = candidate
        for row in rows:
            line, house_id, flat_id, meter_id, *meter = first[row.line]
            v = row.values
            if house_id is None:
                row.fail(
                    "house",
                    _("No house %(house)s on %(street)s.")
                    % {"house": v["house"], "street": v["street"]},
                    v["house"],
                )
            elif flat_id is None:
                row.fail("flat", _("No flat [%(flat)s] in this house.") % {"flat": v["flat"]})
            elif v["serial"]:
                if meter_id is not None:
                    row.action = MeterInfo(meter_id, *meter)
                else:
                    row.fail(
                        "serial",
                        _("Flat %(flat)s has no meter %(serial)s.")
                        % {"flat": v["flat"], "serial": repr(v["serial"])},
                    )
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
                _("Flat %(flat)s has no meter installed in %(month)s (install one first).")
                % {"flat": v["flat"], "month": f"{year}-{month:02d}"},
                "",
            )
        else:
            serials = ", ".join(m.serial for m in active)
            row.fail(
                "serial",
                _("Flat %(flat)s has several meters (%(serials)s): give serial.")
                % {"flat": v["flat"], "serials": serials},
            )

    def check(self, job: ImportJob, rows: list[Row], *, write: bool) -> None:
        rows = self._period(job, rows)
        if not rows:
            return
        year, month = job.state["period"]
        sql.without_jit()
        self._resolve(rows, year, month)
        rows = [row for row in rows if not row.errors]
        meter_ids = sorted({row.action.pk for row in rows})
        if write:
            sql.lock_meters(meter_ids)
        neighbours, existing = sql.reading_facts(meter_ids, year, month)
        self._decide(rows, year, month, neighbours, existing)

    @staticmethod
    def _decide(rows: list[Row], year: int, month: int, neighbours: dict, existing: dict) -> None:
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

    def check_staged(self, job: ImportJob, staged: list[Staged]) -> list[Row]:
        """Check a batch of staged rows (line, meter id, value) again, under the meters' lock;
        a row whose meter changed since the validate pass fails like any other."""
        year, month = job.state["period"]
        meter_ids = sorted({meter_id for _line, meter_id, _value in staged})
        sql.without_jit()
        meters = sql.lock_meter_infos(meter_ids)
        rows = []
        for line, meter_id, value in staged:
            row = Row(line, [])
            row.values["value"] = value
            row.action = meters.get(meter_id)
            if row.action is None:
                row.fail("value", _("The meter was deleted during the import."))
            rows.append(row)
        ready = [row for row in rows if not row.errors]
        neighbours, existing = sql.reading_facts(meter_ids, year, month)
        self._decide(ready, year, month, neighbours, existing)
        return rows

    def write(self, job: ImportJob, rows: list[Row]) -> None:
        year, month = job.state["period"]
        created = [row for row in rows if row.outcome == CREATED]
        sql.insert_readings(
            year,
            month,
            [row.action.pk for row in created],
            [row.values["value"] for row in created],
        )
        updates = [
            MeterReading(pk=row.action[1], value=row.values["value"])
            for row in rows
            if row.outcome == UPDATED
        ]
        MeterReading.objects.bulk_update(updates, ["value"], batch_size=1000)
