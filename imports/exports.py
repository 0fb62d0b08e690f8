"""Exports of the registry, a month's readings, the tariffs and a month's charges.

Each export is a query (imports.sql) read through a server-side cursor in chunks, written row
by row: CSV straight into the response, xlsx into a write-only workbook in a temporary file
that is then streamed. The registry, readings and tariffs exports have the import columns, so
an export imports back with every row unchanged.
"""

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from housing.periods import month_end, month_start
from imports import formats, sql
from imports.kinds import KINDS
from imports.models import ImportJob

CHUNK = 2000
EXPORTS = ("registry", "readings", "tariffs", "charges")
MONTHLY = ("readings", "charges")

CHARGE_COLUMNS = [
    ("street", "Улица"),
    ("house", "Дом"),
    ("flat", "Квартира"),
    ("area", "Площадь"),
    ("status", "Статус"),
    ("water_consumption", "Расход воды"),
    ("water_tariff", "Тариф вода"),
    ("water_cost", "Вода"),
    ("upkeep_tariff", "Тариф содержание"),
    ("upkeep_cost", "Содержание"),
    ("total", "Итого"),
]
SUMMED = (3, 5, 7, 9, 10)  # area, water m3, water, upkeep, total


def _with_house_totals(rows: Iterator[tuple], total_label: str) -> Iterator[tuple]:
    """The charges with a totals row after each house and a grand total at the end."""
    house: tuple | None = None
    sums: list[Decimal] = []  # the house's, from its first row on
    grand = [Decimal(0)] * len(SUMMED)
    for row in rows:
        if row[:2] != house:
            if house is not None:
                yield (*house, total_label, *_spread(sums))
            house, sums = row[:2], [Decimal(0)] * len(SUMMED)
        for i, index in enumerate(SUMMED):
            sums[i] += row[index]
            grand[i] += row[index]
        yield row
    if house is not None:
        yield (*house, total_label, *_spread(sums))
    yield (total_label, None, None, *_spread(grand))


def _spread(sums: list) -> list:
    """Sums into their columns (from `area` on); the others empty."""
    cells = [None] * (len(CHARGE_COLUMNS) - 3)
    for value, index in zip(sums, SUMMED, strict=True):
        cells[index - 3] = value
    return cells


def export_rows(
    what: str, *, year: int | None = None, month: int | None = None, lang: str = "en"
) -> tuple[str, list[str], Iterator[tuple]]:
    """(title, headers, rows) of an export; rows is a lazy iterator."""
    ru = lang == "ru"
    if what == "charges":
        headers = [ru_name if ru else name for name, ru_name in CHARGE_COLUMNS]
        rows = sql.export_rows(sql.CHARGES_SQL, {"year": year, "month": month})
        total_label = "Итого" if ru else "total"
        return f"charges {year}-{month:02d}", headers, _with_house_totals(rows, total_label)
    kind = {"registry": "houses"}.get(what, what)
    headers = [c.header(lang) for c in KINDS[kind].columns]
    if what == "registry":
        return "registry", headers, sql.export_rows(sql.REGISTRY_SQL)
    if what == "tariffs":
        return "tariffs", headers, sql.export_rows(sql.TARIFFS_SQL)
    if year is None or month is None:
        raise ValueError(f"A {what} export is of a month: year and month are required.")
    params = {
        "year": year,
        "month": month,
        "start": month_start(year, month),
        "end": month_end(year, month),
    }
    return f"readings {year}-{month:02d}", headers, sql.export_rows(sql.READINGS_SQL, params)


def csv_stream(headers: list, rows: Iterator[tuple]) -> Iterator[str]:
    """UTF-8 with a BOM (so Excel reads Cyrillic), comma-separated."""
    yield formats.utf8_bom() + formats.csv_line(headers)
    for row in rows:
        yield formats.csv_line(row)


def xlsx_file(title: str, headers: list, rows: Iterator[tuple]) -> IO[bytes]:
    """The workbook in a temporary file (deleted when closed), positioned at its start."""
    book = formats.XlsxStream(title)
    book.append(headers)
    for row in rows:
        book.append(row)
    return _saved(book)


def _saved(book: formats.XlsxStream) -> IO[bytes]:
    """The workbook in a temporary file (deleted when the response closes it), rewound."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    book.save(handle)
    handle.seek(0)
    return handle


def template_file(kind: str, lang: str = "en") -> IO[bytes]:
    """A kind's import template: the headers and an example row."""
    columns = KINDS[kind].columns
    book = formats.XlsxStream(f"{kind} template")
    book.append([c.header(lang) for c in columns])
    book.append([c.example for c in columns])
    return _saved(book)


def errors_file(job: ImportJob) -> IO[bytes]:
    """The job's failed rows as read, with an `error` column, ready to fix and upload again."""
    headers = list(job.state.get("headers") or [])
    book = formats.XlsxStream("errors")
    book.append([*headers, "error"])
    failed = job.row_errors.order_by("row").values_list("values", "errors")
    for values, errors in failed.iterator(chunk_size=CHUNK):
        cells = (list(values) + [""] * len(headers))[: max(len(headers), len(values))]
        message = "; ".join(
            f"{e['column']}: {e['message']}" if e["column"] else e["message"] for e in errors
        )
        book.append([*(cell if cell != "" else None for cell in cells), message])
    return _saved(book)
