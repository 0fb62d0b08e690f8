"""What every import kind shares: a file's row, the cell parsers, the Kind interface."""

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from housing.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS
from imports import formats
from imports.formats import CellError, Column
from imports.models import ImportJob

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

# A row the validate pass staged for the write pass (ImportKey): its line, key and value.
Staged = tuple[int, int, Decimal | None]


class Row:
    """A line of the file: its cells, parsed values, errors, and what checking decided."""

    __slots__ = ("line", "cells", "values", "errors", "outcome", "key", "action", "staged")

    def __init__(self, line: int, cells: list | tuple) -> None:
        self.line, self.cells = line, cells
        self.values: dict[str, Any] = {}
        self.errors: list[dict[str, str]] = []
        self.outcome: str | None = None
        self.key: int | None = None
        # What the kind decided to do with the row; each kind has its own (a RegistryAction, a
        # reading's meter, a tariff's house and row).
        self.action: Any = None
        # What the write pass needs beside the key (a reading's value).
        self.staged: Decimal | None = None

    def fail(self, column: str, message: str, value: object = None) -> None:
        if value is None:
            value = self.values.get(column)
        self.errors.append({"column": column, "value": formats.raw(value), "message": message})


def text_key(text: str) -> int:
    """A text key as a 63-bit number (a btree of integers is far cheaper than of collated
    text); two different keys of one file colliding is a 1 in 10^8 chance at a million rows."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def quantity(value: object) -> Decimal:
    return formats.decimal(value, QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS)


def money(value: object) -> Decimal:
    return formats.decimal(value, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS)


def positive_int(value: object) -> int:
    number = formats.integer(value)
    if number < 1:
        raise CellError(_("Must be 1 or more."))
    if number > 2147483647:
        raise CellError(_("Too large."))
    return number


def year_or_month(value: object) -> int:
    number = formats.integer(value)
    if not 0 <= number <= 9999:
        raise CellError(_("Not a year or month."))
    return number


class Kind:
    """A kind of import: its columns (with a parser each) and how a batch is checked/written."""

    name = ""
    columns: list[Column] = []
    parsers: dict[str, Callable[[Any], object]] = {}

    def plan(self, colmap: dict[str, int]) -> list[tuple]:
        """Per column: (name, index in the file or None, parser, value required)."""
        return [
            (c.name, colmap.get(c.name), self.parsers.get(c.name, formats.text),
             c.name in self.required_values)
            for c in self.columns
        ]  # fmt: skip

    def parse(self, line: int, cells: list | tuple, plan: list[tuple]) -> Row | None:
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
                row.fail(name, _("A value is required."), "")
        return row

    required_values: tuple[str, ...] = ()
    staged_write = False

    def check(self, job: ImportJob, rows: list[Row], *, write: bool) -> None:
        raise NotImplementedError

    def check_staged(self, job: ImportJob, staged: list[Staged]) -> list[Row]:
        """The write pass of a kind with `staged_write`: the rows its validate pass staged."""
        raise NotImplementedError

    def write(self, job: ImportJob, rows: list[Row]) -> None:
        raise NotImplementedError


def errors_of(exc: ValidationError) -> list[str]:
    return [m for messages in exc.message_dict.values() for m in messages]
