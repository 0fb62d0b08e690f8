"""Exports: their content, text that looks like a formula, and round trips into an import."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from billing import runs as billing_runs
from billing import services as billing
from billing.models import Charge
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.tests.factories import HouseFactory, TariffFactory, global_tariffs, house_with_flats
from imports.tests.conftest import run

pytestmark = pytest.mark.django_db

FORMULA_STREET = '=HYPERLINK("http://evil.example","x")'


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming  # never built whole in memory by the view
    return b"".join(response.streaming_content)


def sheet_rows(content: bytes, fmt: str) -> list[list]:
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def city():
    """Two houses with meters and two months of readings, a flat without a meter, a house
    without flats, a removed meter, a street named like a formula and text-like serials."""
    first = house_with_flats(flats=3, months=[(2024, 1), (2024, 2)])
    second = house_with_flats(flats=2, meters_per_flat=2, months=[(2024, 1), (2024, 2)])
    Street.objects.filter(pk=second.street_id).update(name=FORMULA_STREET)
    MeterReading.objects.filter(meter__flat__house=first, meter__flat__number=2, month=2).delete()
    Flat.objects.create(house=first, number=9, area=Decimal("12.345"))
    HouseFactory(street=first.street, number=first.number + 100)
    meter = WaterMeter.objects.filter(flat__house=second).order_by("pk").first()
    WaterMeter.objects.filter(pk=meter.pk).update(serial="-007", initial_value=Decimal("0.5"))
    WaterMeter.objects.create(
        flat=meter.flat, serial="@old", installed_on=date(2019, 1, 1),
        removed_on=date(2019, 12, 31), initial_value=Decimal(1),
    )  # fmt: skip
    TariffFactory(kind="water", price=Decimal("40.00"), valid_from=date(2020, 1, 1))
    TariffFactory(kind="upkeep", price=Decimal("20.00"), valid_from=date(2020, 1, 1), house=first)
    return first, second


def snapshot():
    return (
        list(Street.objects.order_by("pk").values_list()),
        list(House.objects.order_by("pk").values_list()),
        list(Flat.objects.order_by("pk").values_list()),
        list(WaterMeter.objects.order_by("pk").values_list()),
        list(MeterReading.objects.order_by("pk").values_list()),
        list(Tariff.objects.order_by("pk").values_list()),
    )


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize(
    ("export", "kind", "rows"),
    [
        # 3 + 1 meterless flats, 2 x 2 meters + the removed one, 1 house without flats
        ("registry.{fmt}", "houses", 10),
        # every flat's meters installed in February, empty values where none was read
        ("readings.{fmt}?year=2024&month=2", "readings", 8),
        ("tariffs.{fmt}", "tariffs", 2),
    ],
)
def test_exports_round_trip_into_an_import_with_everything_unchanged(
    operator_client, fmt, export, kind, rows
):
    city()
    content = download(operator_client, "/api/v1/exports/" + export.format(fmt=fmt))
    assert len(sheet_rows(content, fmt)) == rows + 1
    before = snapshot()
    body = run(operator_client, content, kind=kind, fmt=fmt)
    assert body["status"] == "COMPLETED", body
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": rows, "failed": 0}
    assert snapshot() == before


def test_readings_export_lists_flats_without_readings(operator_client):
    first, _ = city()
    content = download(operator_client, "/api/v1/exports/readings.csv?year=2024&month=2")
    rows = sheet_rows(content, "csv")
    assert rows[0] == ["street", "house", "flat", "serial", "year", "month", "value"]
    mine = {
        int(r[2]): r for r in rows[1:] if r[0] == first.street.name and r[1] == str(first.number)
    }
    assert mine[1][6] == "4.000"  # 1.5 * 2 + flat 1
    assert mine[2][6] == ""  # its reading is missing
    assert mine[9][3:] == ["", "2024", "2", ""]  # no meter at all


def test_text_that_looks_like_a_formula_stays_text(operator_client):
    city()
    content = download(operator_client, "/api/v1/exports/registry.xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert cells[FORMULA_STREET] == "s"
    assert cells["-007"] == "s"
    assert cells["@old"] == "s"
    assert not any(t == "f" for t in cells.values())
    text = download(operator_client, "/api/v1/exports/registry.csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'-007" in text
    assert "'@old" in text
    assert "\n=" not in text
    assert ",=" not in text


def test_charges_export_has_every_house_and_a_total_per_house(operator_client):
    global_tariffs()
    houses = [house_with_flats(flats=n, months=[(2024, 1), (2024, 2)]) for n in (2, 3)]
    for house in houses:
        run_, _ = billing.start_rent_run(house=house, year=2024, month=2)
        billing_runs.execute_run(run_id=run_.pk, pause=0)
    content = download(operator_client, "/api/v1/exports/charges.xlsx?year=2024&month=2")
    rows = sheet_rows(content, "xlsx")
    assert rows[0][:3] == ["street", "house", "flat"]
    assert rows[0][-1] == "total"
    assert len(rows) == 1 + 2 + 1 + 3 + 1 + 1  # flats and a total per house, a grand total
    totals = [row for row in rows if row[2] == "total"]
    for house, total in zip(houses, totals, strict=True):
        assert (total[0], total[1]) == (house.street.name, house.number)
        expected = sum(Charge.objects.filter(house=house).values_list("total", flat=True))
        assert Decimal(str(total[-1])) == expected
    assert rows[-1][0] == "total"
    assert Decimal(str(rows[-1][-1])) == sum(Charge.objects.values_list("total", flat=True))
    csv_rows = sheet_rows(
        download(operator_client, "/api/v1/exports/charges.csv?year=2024&month=2&lang=ru"), "csv"
    )
    assert csv_rows[0][0] == "Улица"
    assert len(csv_rows) == len(rows)


def test_monthly_exports_need_a_month(operator_client):
    response = operator_client.get("/api/v1/exports/readings.csv")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    response = operator_client.get("/api/v1/exports/charges.xlsx?year=2024&month=13")
    assert response.status_code == 400
    assert operator_client.get("/api/v1/exports/stock.csv").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/exports/registry.xlsx?lang=AAA",
        "/api/v1/exports/registry.csv?month=-3&year=2024",
        "/api/v1/exports/tariffs.csv?year=x",
        "/api/v1/imports/templates/houses.xlsx?lang=de",
        "/api/v1/imports/?dry_run=-58800",
    ],
)
def test_invalid_query_values_are_a_400_not_ignored(operator_client, url):
    response = operator_client.get(url)

    assert response.status_code == 400, response.content
    assert response.json()["code"]


def test_dry_run_filter_takes_true_and_false(operator_client):
    assert operator_client.get("/api/v1/imports/?dry_run=true").status_code == 200
    assert operator_client.get("/api/v1/imports/?dry_run=false").status_code == 200
