"""The stock report as an .xlsx workbook (openpyxl)."""

from datetime import datetime
from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from core.xlsx import safe_row

HEADER = ("item_id", "quantity")
FIRST_ITEM_ROW = 5  # rows 1-2: store and time, row 4: header


def _text(value: str) -> str:
    """Control characters cannot be stored in a worksheet: shown as U+FFFD instead."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def report_filename(store_id: str) -> str:
    return f"STORE_{store_id}.xlsx"


def build_workbook(reports: list[dict], *, generated_at: datetime | None = None) -> bytes:
    """One sheet per store report: store id, generation time, a header row, one row per item."""
    generated_at = timezone.localtime(generated_at or timezone.now())
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for report in reports:
        store = report["store"]
        # Sheet titles are at most 31 characters; the full id is in cell B1.
        sheet = workbook.create_sheet(title=store["store_id"][:31])
        sheet.append(safe_row(sheet, ["Store", store["store_id"]]))
        sheet.append(["Generated at", generated_at.strftime("%Y-%m-%d %H:%M:%S %Z")])
        sheet.append([])
        sheet.append(list(HEADER))
        for cell in (sheet["A1"], sheet["A2"], sheet["A4"], sheet["B4"]):
            cell.font = bold
        for line in store["report"]:
            sheet.append(safe_row(sheet, [_text(line["item_id"]), line["quantity"]]))
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 28
        sheet.freeze_panes = f"A{FIRST_ITEM_ROW}"
    if not reports:
        workbook.create_sheet(title="Stock").append(["No stores"])
    workbook.properties.title = "Stock report"
    workbook.properties.created = generated_at.replace(tzinfo=None)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
