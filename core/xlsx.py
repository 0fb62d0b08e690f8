"""Spreadsheet cells that never run formulas (CSV/formula injection, OWASP).

openpyxl stores any string that starts with "=" as a formula, and spreadsheet programs treat
text starting with "+", "-", "@" (and a leading tab or CR) as one when the cell is edited. Every
xlsx the product makes writes its rows through `safe_row`: such text becomes a string cell
with Excel's quote prefix, shown and kept as the literal text.
"""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import Cell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def safe_cell(sheet: Any, value: Any) -> Any:
    """`value` as openpyxl should get it: risky text as a plain string cell, the rest as is."""
    if not is_risky(value):
        return value
    cell = Cell(sheet, row=1, column=1)  # append() moves it to its place
    cell._value = value  # bypass openpyxl's "starts with = means formula" guess
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for `sheet.append` (normal and write-only sheets) with risky text made safe."""
    return [safe_cell(sheet, value) for value in values]
