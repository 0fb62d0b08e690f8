"""The xlsx statement of a house's charges for a month."""

import io
from collections.abc import Mapping

from openpyxl import Workbook

from billing import selectors
from core.xlsx import safe_row
from housing.models import Flat, House

COLUMNS = [
    ("Flat", "flat_number"),
    ("Area, m2", "area"),
    ("Water, m3", "water_consumption"),
    ("Water tariff", "water_tariff"),
    ("Water", "water_cost"),
    ("Upkeep tariff", "upkeep_tariff"),
    ("Upkeep", "upkeep_cost"),
    ("Total", "total"),
    ("Status", "status"),
]


_SUMMED = ("water_cost", "upkeep_cost", "total")


def house_statement_xlsx(*, house: House, year: int, month: int, flat: Flat | None = None) -> bytes:
    """One row per flat, then the totals; numbers are written as numbers with fixed formats.
    With `flat`, only that flat's row (a resident's own statement)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{year}-{month:02d}")
    title = f"Rent statement: {house.street.name}, {house.number}, {year}-{month:02d}"
    sheet.append(safe_row(sheet, [title]))
    sheet.append([title for title, _ in COLUMNS])
    charges = selectors.house_month_charges(house=house, year=year, month=month)
    if flat is not None:
        charges = charges.filter(flat=flat)
    for charge in charges:
        values = {"flat_number": charge.flat.number}
        for _, attr in COLUMNS[1:]:
            values.setdefault(attr, getattr(charge, attr))
        sheet.append(safe_row(sheet, [values[attr] for _, attr in COLUMNS]))
    totals: Mapping[str, object]
    if flat is None:
        totals = selectors.house_month_totals(house=house, year=year, month=month)
    else:
        totals = {key: sum(getattr(c, key) for c in charges) for key in _SUMMED}
    sheet.append(
        [
            "Total",
            None,
            None,
            None,
            totals["water_cost"],
            None,
            totals["upkeep_cost"],
            totals["total"],
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
