"""The registry kind: streets, houses, flats (with area) and meters (with serials)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from housing.models import Flat, House, WaterMeter
from housing.services import registry
from imports import formats
from imports.formats import Column
from imports.kinds.base import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Kind,
    Row,
    errors_of,
    positive_int,
    quantity,
    text_key,
)
from imports.models import ImportJob
from imports.sql import METER_FIELDS, MeterInfo


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
        "house": positive_int,
        "flat": positive_int,
        "area": quantity,
        "serial": formats.text,
        "installed_on": formats.day,
        "initial_value": quantity,
        "removed_on": formats.day,
    }
    required_values = ("street", "house")

    def check(self, job: ImportJob, rows: list[Row], *, write: bool) -> None:
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

    def _check_row(
        self,
        row: Row,
        houses: dict[tuple[str, int], int],
        flats: dict[tuple[int, int], tuple[int, Decimal]],
        meters: dict[str, MeterInfo],
        planned_houses: set[tuple[str, int]],
        planned_flats: dict[tuple[str, int, int], tuple[int, Decimal]],
    ) -> None:
        v = row.values
        if not v["street"].strip():
            row.fail("street", _("A street name is required."))
            return
        address = (v["street"], v["house"])
        house_id = houses.get(address)
        action = RegistryAction(street=v["street"], house=v["house"], flat=v["flat"], area=None)
        action.new_house = house_id is None and address not in planned_houses
        existing = None
        if v["flat"] is None:
            for column in ("area", "serial", "installed_on", "initial_value", "removed_on"):
                if v[column] is not None:
                    row.fail(
                        "flat",
                        _("A flat number is needed with %(column)s.") % {"column": column},
                        "",
                    )
                    return
        else:
            if v["area"] is not None and v["area"] <= 0:
                row.fail("area", _("An area must be above 0."))
                return
            existing = flats.get((house_id, v["flat"])) if house_id else None
            planned = planned_flats.get((*address, v["flat"]))
            if existing is not None:
                if v["area"] is not None and v["area"] != existing[1]:
                    action.resize_flat_id, action.area = existing[0], v["area"]
            elif planned is not None:
                if v["area"] is not None and v["area"] != planned[1]:
                    row.fail(
                        "area",
                        _("Flat %(flat)s has area %(area)s on row %(row)s.")
                        % {"flat": v["flat"], "area": planned[1], "row": planned[0]},
                    )
                    return
            elif v["area"] is None:
                row.fail(
                    "area",
                    _("Flat %(flat)s is new: its area is required.") % {"flat": v["flat"]},
                    "",
                )
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

    def _check_meter(
        self, row: Row, existing_flat: tuple[int, Decimal] | None, meters: dict[str, MeterInfo]
    ) -> bool:
        v = row.values
        meter = meters.get(v["serial"])
        if meter is None:
            if v["initial_value"] is not None and v["initial_value"] < 0:
                row.fail("initial_value", _("An initial value cannot be negative."))
                return False
            if v["removed_on"] and v["installed_on"] and v["removed_on"] < v["installed_on"]:
                row.fail("removed_on", _("A meter cannot be removed before installation."))
                return False
            return True
        if existing_flat is None or meter.flat_id != existing_flat[0]:
            row.fail(
                "serial", _("Serial %(serial)s is already in use.") % {"serial": repr(v["serial"])}
            )
            return False
        for column in ("installed_on", "initial_value", "removed_on"):
            if v[column] is not None and v[column] != getattr(meter, column):
                row.fail(
                    column,
                    _(
                        "Meter %(serial)s has %(column)s %(value)s: an import does not edit "
                        "meters (record a replacement instead)."
                    )
                    % {
                        "serial": meter.serial,
                        "column": column,
                        "value": formats.raw(getattr(meter, column)),
                    },
                )
                return False
        return True

    def write(self, job: ImportJob, rows: list[Row]) -> None:
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
                row.fail("house", " ".join(errors_of(exc)))
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
    def _houses(addresses: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        found = House.objects.filter(
            street__name__in={a[0] for a in addresses}, number__in={a[1] for a in addresses}
        ).values_list("pk", "street__name", "number")
        return {
            (street, number): pk for pk, street, number in found if (street, number) in addresses
        }

    @staticmethod
    def _flats(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
        found = Flat.objects.filter(
            house_id__in={k[0] for k in keys}, number__in={k[1] for k in keys}
        ).values_list("pk", "house_id", "number")
        return {(house_id, number): pk for pk, house_id, number in found}
