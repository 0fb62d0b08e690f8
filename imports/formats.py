"""Reading and writing spreadsheets: xlsx (openpyxl, streaming both ways) and CSV.

Imports read row by row (openpyxl read-only mode, the csv module), so memory does not grow
with the file. Headers are matched by name, English or Russian, in any order. Exports write
every text cell as text: a value starting with = + - @ never becomes a formula (in CSV it is
prefixed with an apostrophe, which the import strips again).
"""

import codecs
import csv
import io
import itertools
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, TextIO, cast
from xml.etree import ElementTree

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel, from_ISO8601

from imports.errors import FileFormatError

XLSX, CSV = "xlsx", "csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ZIP_MAGIC = b"PK\x03\x04"
ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\sref="[A-Z]*\d*:?[A-Z]*(\d+)"')
SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")


@dataclass(frozen=True)
class Column:
    """A column of an import kind: its English name (the API's field), Russian header, other
    accepted headers, whether the header must be present, and an example value."""

    name: str
    ru: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    example: object = ""
    help: str = field(default="", compare=False)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, self.ru, *self.aliases)

    def header(self, lang: str) -> str:
        """The header written for a language: Russian for `ru*`, else the English name."""
        return self.ru if lang.startswith("ru") else self.name


def normalize_header(text: object) -> str:
    text = str(text or "").strip().lower().replace("ё", "е")
    return re.sub(r"[\s_\-.,:;()/]+", " ", text).strip()


def match_headers(headers: list, columns: list[Column]) -> dict[str, int]:
    """Column name -> index in the file's header row. Raises FileFormatError when a required
    column is missing or one appears twice; unknown headers are ignored."""
    lookup = {normalize_header(h): c.name for c in columns for h in c.headers}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalize_header(header))
        if name is None:
            continue
        if name in found:
            raise FileFormatError(
                _("Column %(name)s appears twice.") % {"name": repr(name)}, "duplicate_column"
            )
        found[name] = index
    missing = [f"{c.name} ({c.ru})" for c in columns if c.required and c.name not in found]
    if missing:
        raise FileFormatError(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}, "missing_columns"
        )
    return found


def detect_format(path: str | Path, name: str = "") -> str:
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start == ZIP_MAGIC:
        return XLSX
    if name.lower().endswith((".xlsx", ".xls", ".xlsm", ".ods")):
        raise FileFormatError(_("Not a readable xlsx file (save it as .xlsx or CSV)."), "bad_xlsx")
    return CSV


def _csv_encoding(path: str | Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(65536)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 64 KB boundary
            return "cp1251"  # Excel's "CSV" in a Russian locale
    return "utf-8-sig"


def _csv_dialect(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    return max(counts, key=counts.__getitem__) if any(counts.values()) else ","


class SheetReader:
    """Rows of the first sheet of an xlsx file, or of a CSV file, as lists of cell values.

    `rows()` yields (line, cells) for the lines after the header, from `skip` data lines on;
    use it as a context manager so the file is closed."""

    def __init__(self, path: str | Path, file_format: str) -> None:
        self.path, self.format = Path(path), file_format
        self._workbook: _XlsxBook | None = None
        self._handle: TextIO | None = None
        self._rows: Iterator[list]
        self.total: int | None = None
        try:
            if file_format == XLSX:
                self._workbook = _XlsxBook(self.path)
                self._rows = self._workbook.rows()
                self.total = self._workbook.data_lines
            else:
                encoding = _csv_encoding(self.path)
                self._handle = open(self.path, encoding=encoding, newline="")  # noqa: SIM115
                first = self._handle.readline()
                self._handle.seek(0)
                self._rows = csv.reader(self._handle, delimiter=_csv_dialect(first))
            self.headers = list(next(self._rows, []))
        except FileFormatError:
            self.close()
            raise
        except Exception as exc:  # a user's file: whatever it breaks in the reader is a 400
            self.close()
            raise FileFormatError(
                _("The file cannot be read: %(error)s") % {"error": exc}, "unreadable_file"
            ) from exc
        if not any(cell not in (None, "") for cell in self.headers):
            self.close()
            raise FileFormatError(_("The file has no header row."), "no_header")

    def rows(self, skip: int = 0) -> Iterator[tuple[int, list | tuple]]:
        line = 1 + skip
        try:
            for _skipped in itertools.islice(self._rows, skip):
                pass
            for cells in self._rows:
                line += 1
                yield line, cells
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FileFormatError(
                _("Line %(line)s cannot be read: %(error)s") % {"line": line + 1, "error": exc}
            ) from exc

    def count(self) -> int:
        """Data lines in the file: from the xlsx dimension, or the last row number in the
        sheet's XML (a regex over the stream, far cheaper than parsing), else by reading the
        rows through."""
        if self.total is not None:
            return self.total
        if self._workbook is not None:  # an xlsx file
            last = 0
            with self._workbook.open_sheet() as source:
                tail = b""
                while chunk := source.read(1 << 20):
                    data = tail + chunk
                    last = max([last, *map(int, ROW_NUMBER.findall(data))])
                    tail = data[-256:]
            if last:
                return max(last - 1, 0)
        reader = SheetReader(self.path, self.format)
        with reader:
            return sum(1 for _line in reader.rows())

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "SheetReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _XlsxBook:
    """The first worksheet of an xlsx file, read with openpyxl's workbook reader but without
    openpyxl's read-only worksheet: building one looks for the sheet's <dimension> with a
    parse that, when the writer left it out (openpyxl's own write-only mode does), runs through
    the whole sheet, once per sheet and per opening."""

    def __init__(self, path: Path) -> None:
        reader = ExcelReader(path, read_only=True, data_only=True)
        self.archive = reader.archive
        try:
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)  # the date formats
            self.strings = reader.shared_strings
            self.date_styles = reader.wb._date_formats
            self.epoch = reader.wb.epoch
            self.sheet_path = next(
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            )
        except StopIteration:
            self.close()
            raise FileFormatError(_("The workbook has no worksheet."), "unreadable_file") from None
        except BaseException:
            self.close()
            raise
        self.data_lines = self._dimension_rows()

    def open_sheet(self) -> IO[bytes]:
        return self.archive.open(self.sheet_path)

    def _dimension_rows(self) -> int | None:
        """Data lines by the sheet's <dimension> (before <sheetData>), when the writer set it."""
        head = b""
        with self.open_sheet() as source:
            while chunk := source.read(1 << 14):
                head += chunk
                data_at = SHEET_DATA.search(head)
                found = DIMENSION.search(head, 0, data_at.start() if data_at else len(head))
                if found:
                    return max(int(found.group(1)) - 1, 0)
                if data_at or len(head) > 1 << 20:
                    return None
        return None

    def rows(self) -> Iterator[list]:
        with self.open_sheet() as source:
            yield from _xlsx_rows(source, self.strings, self.date_styles, self.epoch)

    def close(self) -> None:
        self.archive.close()


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _TEXT = _MAIN + "row", _MAIN + "c", _MAIN + "v", _MAIN + "t"


class _SheetRows:
    """The target of an XML parser over a sheet: collects its rows as lists of values, like
    openpyxl's read-only iter_rows(values_only=True) but without cell objects, elements or
    events (the parser calls start/data/end straight from expat). Shared strings, numbers,
    booleans, dates (by the cell's number format), inline strings; missing rows come as empty
    lists so line numbers stay right."""

    def __init__(self, strings: list[str], dates: Container[int], epoch: datetime) -> None:
        self.strings, self.dates, self.epoch = strings, dates, epoch
        self.done: list[list] = []  # rows completed since the reader took the last ones
        self.expected = 1
        self.values: list | None = None
        self.kind = self.style = None
        self.cell_text: str | None = None
        self.pieces: list[str] | None = None  # the text of the <v> or <t> being read
        self.columns: dict[str, int] = {}

    def start(self, tag: str, attrib: dict) -> None:
        if tag == _CELL:
            values = self.values
            if values is None:
                return
            reference = attrib.get("r")
            if reference:
                letters = reference.rstrip("0123456789")
                column = self.columns.get(letters)
                if column is None:
                    column = self.columns[letters] = _column_index(letters)
                if column > len(values):
                    values.extend([None] * (column - len(values)))
            self.kind, self.style, self.cell_text = attrib.get("t", "n"), attrib.get("s"), None
        elif tag in (_VALUE, _TEXT):
            if self.kind is not None:
                self.pieces = []
        elif tag == _ROW:
            number = int(attrib.get("r") or self.expected)
            while self.expected < number:
                self.done.append([])
                self.expected += 1
            self.expected = number + 1
            self.values = []

    def data(self, text: str) -> None:
        if self.pieces is not None:
            self.pieces.append(text)

    def end(self, tag: str) -> None:
        if tag == _CELL:
            # A cell's start set its kind exactly when it was inside a row (values not None).
            values = self.values
            if values is not None:
                values.append(self._value())
                self.kind = None
        elif tag in (_VALUE, _TEXT):
            if self.pieces is not None:
                text = "".join(self.pieces)
                # An inline string may come in runs, each its own <t>.
                self.cell_text = text if self.cell_text is None else self.cell_text + text
                self.pieces = None
        elif tag == _ROW:
            self.done.append(cast("list", self.values))  # rows do not nest: set at its start
            self.values = None

    def _value(self) -> Any:
        value, kind = self.cell_text, self.kind
        if kind == "inlineStr":
            return value or None
        if value is None or value == "":
            return None
        if kind == "s":
            return self.strings[int(value)]
        if kind == "n":
            number = float(value) if "." in value or "E" in value or "e" in value else int(value)
            if self.style and int(self.style) in self.dates:
                try:
                    return from_excel(number, self.epoch)
                except (OverflowError, ValueError):
                    return value
            return number
        if kind == "b":
            return value == "1"
        if kind == "d":
            return from_ISO8601(value)
        return value  # "str" (a formula's text) or "e" (an error such as #N/A)

    def close(self) -> None:
        return None


def _column_index(letters: str) -> int:
    """0-based column of a cell reference's letters ("AB" of "AB12")."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _xlsx_rows(
    source: IO[bytes], strings: list[str], dates: Container[int], epoch: datetime
) -> Iterator[list]:
    """The sheet's rows as lists of values (see _SheetRows), a chunk of XML at a time: memory
    stays flat."""
    target = _SheetRows(strings, dates, epoch)
    # The XML parser fetches no external entity; its expat (>= 2.4) refuses entity bombs.
    parser = ElementTree.XMLParser(target=target)  # noqa: S314
    while chunk := source.read(1 << 16):
        parser.feed(chunk)
        if target.done:
            rows, target.done = target.done, []
            yield from rows
    parser.close()
    yield from target.done


# --- Cell values -----------------------------------------------------------------------------


class CellError(ValueError):
    pass


# The parsers take a cell as read (str, int, float, bool, datetime or None) and test its class
# by identity, the cheapest test per cell, which mypy does not narrow on: hence Any.
def raw(value: Any) -> str:
    """A cell as text, for error reports and the error file."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def text(value: Any) -> str:
    value = value.strip() if value.__class__ is str else raw(value)
    # The apostrophe our CSV exports put before text that looks like a formula.
    if value[:1] == "'" and value[1:2] and value[1:2] in FORMULA_STARTS:
        value = value[1:]
    return value


def is_empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _cleaned(value: Any) -> str:
    return str(value).strip().replace("\u00a0", "").replace(" ", "")


def integer(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)  # the common case; spaces around are fine
        except ValueError:
            pass
    elif kind is float and value.is_integer():
        return int(value)
    if kind is not bool:
        try:
            return int(_cleaned(value))
        except ValueError:
            pass
    raise CellError(_("Not a whole number."))


QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(7)}


def decimal(value: Any, places: int, max_digits: int) -> Decimal:
    kind = type(value)
    try:
        if kind is str:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = Decimal(_cleaned(value).replace(",", "."))  # "12,5": a Russian locale
        elif kind is float:
            number = Decimal(repr(value))
        elif kind is int or kind is Decimal:
            number = Decimal(value)
        else:
            raise InvalidOperation
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise CellError(_("Not a number.")) from None
    try:
        exact = number.quantize(QUANTUM[places])
    except InvalidOperation:
        exact = None
    if exact is None or exact.adjusted() + 1 + places > max_digits:
        raise CellError(
            _("Too large (at most %(digits)s digits before the point).")
            % {"digits": max_digits - places}
        )
    if exact != number:
        raise CellError(_("At most %(places)s decimal places.") % {"places": places})
    return exact


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    cleaned = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007  a date, no time or zone
        except ValueError:
            continue
    raise CellError(_("Not a date (YYYY-MM-DD or DD.MM.YYYY)."))


# --- Writing ---------------------------------------------------------------------------------


def safe_csv_text(value: object) -> object:
    """Text that a spreadsheet would take for a formula gets an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(
        [
            "" if v is None else safe_csv_text(v if not isinstance(v, date) else v.isoformat())
            for v in values
        ]  # fmt: skip
    )
    return buffer.getvalue()


class XlsxStream:
    """A write-only workbook of one sheet whose text cells are always text cells."""

    def __init__(self, title: str) -> None:
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title[:31])

    def cell(self, value: object) -> object:
        if isinstance(value, str):
            cell = WriteOnlyCell(self.sheet, value=None)
            cell._value, cell.data_type = value, "s"  # never a formula, whatever it starts with
            return cell
        if isinstance(value, date):
            return value.isoformat()
        return value

    def append(self, values: Iterable[object]) -> None:
        self.sheet.append([self.cell(v) for v in values])

    def save(self, target: str | Path | IO[bytes]) -> None:
        self.workbook.save(target)


def utf8_bom() -> str:
    return codecs.BOM_UTF8.decode()
