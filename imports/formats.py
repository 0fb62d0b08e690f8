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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree import ElementTree

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.datetime import from_excel, from_ISO8601

from imports.errors import FileFormatError

XLSX, CSV = "xlsx", "csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ZIP_MAGIC = b"PK\x03\x04"
ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')


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


def normalize_header(text) -> str:
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
            raise FileFormatError(f"Column {name!r} appears twice.", "duplicate_column")
        found[name] = index
    missing = [f"{c.name} ({c.ru})" for c in columns if c.required and c.name not in found]
    if missing:
        raise FileFormatError(f"Missing columns: {', '.join(missing)}.", "missing_columns")
    return found


def detect_format(path: Path, name: str = "") -> str:
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start == ZIP_MAGIC:
        return XLSX
    if name.lower().endswith((".xlsx", ".xls", ".xlsm", ".ods")):
        raise FileFormatError("Not a readable xlsx file (save it as .xlsx or CSV).", "bad_xlsx")
    return CSV


def _csv_encoding(path: Path) -> str:
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
    return max(counts, key=counts.get) if any(counts.values()) else ","


class SheetReader:
    """Rows of the first sheet of an xlsx file, or of a CSV file, as lists of cell values.

    `rows()` yields (line, cells) for the lines after the header, from `skip` data lines on;
    use it as a context manager so the file is closed."""

    def __init__(self, path: Path, file_format: str):
        self.path, self.format = Path(path), file_format
        self._workbook = self._handle = None
        self.total: int | None = None
        try:
            if file_format == XLSX:
                self._workbook = load_workbook(path, read_only=True, data_only=True)
                sheet = self._workbook.worksheets[0]
                self._rows = _xlsx_rows(self._workbook, sheet)
                if sheet.max_row:  # from the sheet's <dimension>, when the writer set it
                    self.total = max(sheet.max_row - 1, 0)
            else:
                encoding = _csv_encoding(path)
                self._handle = open(path, encoding=encoding, newline="")  # noqa: SIM115
                first = self._handle.readline()
                self._handle.seek(0)
                self._rows = csv.reader(self._handle, delimiter=_csv_dialect(first))
            self.headers = list(next(self._rows, None) or [])
        except FileFormatError:
            self.close()
            raise
        except Exception as exc:  # a user's file: whatever it breaks in the reader is a 400
            self.close()
            raise FileFormatError(f"The file cannot be read: {exc}", "unreadable_file") from exc
        if not any(cell not in (None, "") for cell in self.headers):
            self.close()
            raise FileFormatError("The file has no header row.", "no_header")

    def rows(self, skip: int = 0) -> Iterator[tuple[int, list | tuple]]:
        line = 1 + skip
        try:
            for _ in itertools.islice(self._rows, skip):
                pass
            for cells in self._rows:
                line += 1
                yield line, cells
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FileFormatError(f"Line {line + 1} cannot be read: {exc}") from exc

    def count(self) -> int:
        """Data lines in the file: from the xlsx dimension, or the last row number in the
        sheet's XML (a regex over the stream, far cheaper than parsing), else by reading the
        rows through."""
        if self.total is not None:
            return self.total
        if self.format == XLSX:
            last = 0
            with self._workbook.worksheets[0]._get_source() as source:
                tail = b""
                while chunk := source.read(1 << 20):
                    data = tail + chunk
                    last = max([last, *map(int, ROW_NUMBER.findall(data))])
                    tail = data[-256:]
            if last:
                return max(last - 1, 0)
        reader = SheetReader(self.path, self.format)
        with reader:
            return sum(1 for _ in reader.rows())

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _column_index(reference: str) -> int:
    """0-based column of a cell reference such as "AB12"."""
    index = 0
    for char in reference:
        if char.isdigit():
            break
        index = index * 26 + ord(char) - 64
    return index - 1


def _xlsx_rows(workbook, sheet) -> Iterator[list]:
    """The sheet's rows as lists of values, like openpyxl's read-only iter_rows(values_only)
    but about three times faster: one ElementTree iterparse over the sheet's XML, no cell
    objects. Shared strings, numbers, booleans, dates (by the cell's number format), inline
    strings; missing rows come as empty lists so line numbers stay right."""
    strings = workbook.shared_strings
    dates = workbook._date_formats
    epoch = workbook.epoch
    namespace = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    row_tag, cell_tag, value_tag = namespace + "row", namespace + "c", namespace + "v"
    text_tag = namespace + "t"
    expected, rows_parent = 1, None
    with sheet._get_source() as source:
        # ElementTree fetches no external entity and its expat (>= 2.4) refuses entity bombs.
        for event, element in ElementTree.iterparse(source, events=("start", "end")):  # noqa: S314
            if event == "start":
                if element.tag == namespace + "sheetData":
                    rows_parent = element
                continue
            if element.tag != row_tag:
                continue
            number = int(element.get("r") or expected)
            while expected < number:
                yield []
                expected += 1
            expected = number + 1
            values: list = []
            for cell in element.iter(cell_tag):
                reference = cell.get("r")
                if reference:
                    column = _column_index(reference)
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                kind = cell.get("t", "n")
                if kind == "inlineStr":
                    value = "".join(t.text or "" for t in cell.iter(text_tag)) or None
                else:
                    value = cell.findtext(value_tag)
                    if value is None or value == "":
                        value = None
                    elif kind == "s":
                        value = strings[int(value)]
                    elif kind == "n":
                        number_value = (
                            float(value) if "." in value or "E" in value or "e" in value
                            else int(value)
                        )  # fmt: skip
                        style = cell.get("s")
                        if style and int(style) in dates:
                            try:
                                number_value = from_excel(number_value, epoch)
                            except (OverflowError, ValueError):
                                number_value = value
                        value = number_value
                    elif kind == "b":
                        value = value == "1"
                    elif kind == "d":
                        value = from_ISO8601(value)
                values.append(value)
            if rows_parent is not None:
                rows_parent.clear()  # drop the rows read: memory stays flat
            yield values


# --- Cell values -----------------------------------------------------------------------------


class CellError(ValueError):
    pass


def raw(value) -> str:
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


def text(value) -> str:
    value = value.strip() if value.__class__ is str else raw(value)
    # The apostrophe our CSV exports put before text that looks like a formula.
    if value[:1] == "'" and value[1:2] and value[1:2] in FORMULA_STARTS:
        value = value[1:]
    return value


def is_empty(value) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _cleaned(value) -> str:
    return str(value).strip().replace("\u00a0", "").replace(" ", "")


def integer(value) -> int:
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
    raise CellError("Not a whole number.")


QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(7)}


def decimal(value, places: int, max_digits: int) -> Decimal:
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
        raise CellError("Not a number.") from None
    try:
        exact = number.quantize(QUANTUM[places])
    except InvalidOperation:
        exact = None
    if exact is None or exact.adjusted() + 1 + places > max_digits:
        raise CellError(f"Too large (at most {max_digits - places} digits before the point).")
    if exact != number:
        raise CellError(f"At most {places} decimal places.")
    return exact


def day(value) -> date:
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
    raise CellError("Not a date (YYYY-MM-DD or DD.MM.YYYY).")


# --- Writing ---------------------------------------------------------------------------------


def safe_csv_text(value):
    """Text that a spreadsheet would take for a formula gets an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(values) -> str:
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

    def __init__(self, title: str):
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(title[:31])

    def cell(self, value):
        if isinstance(value, str):
            cell = WriteOnlyCell(self.sheet, value=None)
            cell._value, cell.data_type = value, "s"  # never a formula, whatever it starts with
            return cell
        if isinstance(value, date):
            return value.isoformat()
        return value

    def append(self, values) -> None:
        self.sheet.append([self.cell(v) for v in values])

    def save(self, target) -> None:
        self.workbook.save(target)


def utf8_bom() -> str:
    return codecs.BOM_UTF8.decode()
