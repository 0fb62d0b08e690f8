"""Import jobs through the API, executed in this process: each kind from xlsx and CSV with
English and Russian headers, dry runs, the two modes, row errors, repeats and limits."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.tests.factories import HouseFactory, TariffFactory, house_with_flats
from imports.models import ImportJob, ImportKey
from imports.tests.conftest import csv_bytes, run, spreadsheet, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

FORMATS = ["xlsx", "csv"]
READING_HEADERS = {
    "en": ["street", "house", "flat", "serial", "year", "month", "value"],
    # Russian, in another order and spelling.
    "ru": ["Показание", "Месяц", "Год", "Квартира", "Дом", "Улица", "Серийный номер"],
}


def reading_rows(lang: str, rows: list[dict]) -> list[list]:
    order = {
        "en": ["street", "house", "flat", "serial", "year", "month", "value"],
        "ru": ["value", "month", "year", "flat", "house", "street", "serial"],
    }[lang]
    return [READING_HEADERS[lang]] + [[row.get(k) for k in order] for row in rows]


def february(house, values: dict[int, object], **extra) -> list[dict]:
    return [
        {"street": house.street.name, "house": house.number, "flat": flat, "year": 2024,
         "month": 2, "value": value, **extra}
        for flat, value in values.items()
    ]  # fmt: skip


def readings_of(house, year=2024, month=2) -> dict[int, Decimal]:
    return dict(
        MeterReading.objects.filter(meter__flat__house=house, year=year, month=month).values_list(
            "meter__flat__number", "value"
        )
    )


# --- Each kind, each format, both languages ---------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_readings_import(operator_client, fmt, lang):
    house = house_with_flats(flats=3, months=[(2024, 1)])  # January: flat n has 1.5 + n
    content = spreadsheet(fmt, reading_rows(lang, february(house, {1: "10.5", 2: 11, 3: "12,25"})))
    body = run(operator_client, content, kind="readings", fmt=fmt)
    assert body["status"] == "COMPLETED", body
    assert body["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "failed": 0}
    assert body["progress"] == {"done": 3, "total": 3, "percent": 100.0}
    assert readings_of(house) == {1: Decimal("10.5"), 2: Decimal(11), 3: Decimal("12.25")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_houses_import(operator_client, fmt, lang):
    headers = {
        "en": ["street", "house", "flat", "area", "serial", "installed_on", "initial_value"],
        "ru": ["Улица", "Дом", "Квартира", "Площадь", "Серийный номер", "Дата установки",
               "Начальное показание"],
    }[lang]  # fmt: skip
    existing = HouseFactory(street__name="Old St", number=1)
    Flat.objects.create(house=existing, number=1, area=Decimal("40.000"))
    rows = [
        headers,
        ["New St", 7, 1, "45.5", "N-1", "2024-01-01", "1.5"],
        ["New St", 7, 1, "45.5", "N-2", None, None],  # the same flat's second meter
        ["New St", 7, 2, "60", None, None, None],  # a flat without meters
        ["New St", 8, None, None, None, None, None],  # a house without flats
        ["Old St", 1, 1, "41", None, None, None],  # resized
        ["Old St", 1, 2, "30.25", "O-1", None, None],
    ]
    body = run(operator_client, spreadsheet(fmt, rows), kind="houses", fmt=fmt)
    assert body["status"] == "COMPLETED", body
    assert body["counts"] == {"created": 5, "updated": 1, "unchanged": 0, "failed": 0}
    house = House.objects.get(street__name="New St", number=7)
    assert dict(house.flats.values_list("number", "area")) == {
        1: Decimal("45.5"),
        2: Decimal(60),
    }
    meter = WaterMeter.objects.get(serial="N-1")
    assert (meter.flat.number, meter.installed_on, meter.initial_value) == (
        1,
        date(2024, 1, 1),
        Decimal("1.5"),
    )
    assert WaterMeter.objects.filter(flat__house=house).count() == 2
    assert House.objects.filter(street__name="New St", number=8).exists()
    assert Flat.objects.get(house=existing, number=1).area == Decimal(41)
    assert WaterMeter.objects.get(serial="O-1").flat.number == 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_tariffs_import(operator_client, fmt, lang):
    house = HouseFactory(street__name="Tariff St", number=3)
    TariffFactory(kind="water", price=Decimal("40.00"), valid_from=date(2024, 1, 1))
    headers = {
        "en": ["kind", "price", "valid_from", "street", "house"],
        "ru": ["Вид", "Цена", "Действует с", "Улица", "Дом"],
    }[lang]
    rows = [
        headers,
        ["water", "45.50", "2024-01-01", None, None],  # updated
        ["вода" if lang == "ru" else "water", "47", "01.07.2024", None, None],
        ["upkeep", "30", "2024-01-01", "Tariff St", 3],
    ]
    body = run(operator_client, spreadsheet(fmt, rows), kind="tariffs", fmt=fmt)
    assert body["status"] == "COMPLETED", body
    assert body["counts"] == {"created": 2, "updated": 1, "unchanged": 0, "failed": 0}
    assert Tariff.objects.get(kind="water", valid_from=date(2024, 1, 1)).price == Decimal("45.5")
    assert Tariff.objects.get(kind="water", valid_from=date(2024, 7, 1)).price == Decimal(47)
    assert Tariff.objects.get(kind="upkeep", house=house).price == Decimal(30)


def test_csv_in_windows_1251_with_commas(operator_client):
    house = house_with_flats(flats=1, months=[(2024, 1)])
    Street.objects.filter(pk=house.street_id).update(name="Ленина")
    rows = [["Улица", "Дом", "Квартира", "Год", "Месяц", "Показание"],
            ["Ленина", house.number, 1, 2024, 2, "7.25"]]  # fmt: skip
    body = run(operator_client, csv_bytes(rows, encoding="cp1251"), kind="readings", fmt="csv")
    assert body["counts"]["created"] == 1, body
    assert readings_of(house) == {1: Decimal("7.25")}


def test_a_correction_updates_and_the_same_value_is_unchanged(operator_client):
    house = house_with_flats(flats=2, months=[(2024, 1), (2024, 2)])  # Feb: 3 + n
    content = xlsx_bytes(reading_rows("en", february(house, {1: "4.5", 2: "5"})))
    body = run(operator_client, content, kind="readings")
    assert body["counts"] == {"created": 0, "updated": 1, "unchanged": 1, "failed": 0}
    assert readings_of(house) == {1: Decimal("4.5"), 2: Decimal(5)}


# --- Dry run, modes ---------------------------------------------------------------------------


def _snapshot():
    return (
        list(MeterReading.objects.order_by("pk").values_list("pk", "value")),
        list(Flat.objects.order_by("pk").values_list("pk", "area")),
        WaterMeter.objects.count(),
        House.objects.count(),
        Street.objects.count(),
        list(Tariff.objects.order_by("pk").values_list("pk", "price")),
    )


@pytest.mark.parametrize("kind", ["readings", "houses", "tariffs"])
def test_dry_run_changes_nothing_and_predicts_the_counts(operator_client, kind):
    house = house_with_flats(flats=3, months=[(2024, 1)])
    content = {
        "readings": reading_rows("en", february(house, {1: 9, 2: 9, 3: 1})),  # 3: too low
        "houses": [
            ["street", "house", "flat", "area", "serial"],
            [house.street.name, house.number, 1, "99", None],
            [house.street.name, house.number, 9, "50", "DRY-1"],
            ["Dry St", 1, 1, "20", None],
        ],
        "tariffs": [["kind", "price", "valid_from"], ["water", "1", "2024-01-01"]],
    }[kind]
    before = _snapshot()
    body = run(operator_client, xlsx_bytes(content), kind=kind, dry_run=True)
    assert body["status"] == "COMPLETED", body
    assert _snapshot() == before
    expected = {
        "readings": {"created": 2, "updated": 0, "unchanged": 0, "failed": 1},
        "houses": {"created": 2, "updated": 1, "unchanged": 0, "failed": 0},
        "tariffs": {"created": 1, "updated": 0, "unchanged": 0, "failed": 0},
    }[kind]
    assert body["counts"] == expected
    assert [row["outcome"] for row in body["preview"]][:1] in (["created"], ["updated"])
    assert not ImportKey.objects.exists()


def test_all_or_nothing_writes_nothing_when_a_row_fails(operator_client):
    house = house_with_flats(flats=3, months=[(2024, 1)])
    content = xlsx_bytes(reading_rows("en", february(house, {1: 9, 2: "x", 3: 9})))
    body = run(operator_client, content, kind="readings", mode="all_or_nothing", batch_size=1)
    assert body["status"] == "FAILED"
    assert body["error"] == "1 rows have errors: nothing was imported."
    assert body["counts"]["failed"] == 1
    assert readings_of(house) == {}


def test_valid_rows_writes_the_good_rows_and_reports_the_bad(operator_client):
    house = house_with_flats(flats=3, months=[(2024, 1)])
    content = xlsx_bytes(reading_rows("en", february(house, {1: 9, 2: "x", 3: 9})))
    body = run(operator_client, content, kind="readings", mode="valid_rows", batch_size=1)
    assert body["status"] == "COMPLETED"
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "failed": 1}
    assert readings_of(house) == {1: Decimal(9), 3: Decimal(9)}
    assert body["errors"] == [
        {"row": 3, "column": "value", "value": "x", "message": "Not a number."}
    ]


# --- Row errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_row_error_is_reported_with_row_and_column(operator_client, fmt):
    house = house_with_flats(flats=4, meters_per_flat=1, months=[(2024, 1)])
    two = house_with_flats(flats=1, meters_per_flat=2, months=[(2024, 1)])
    street, number = house.street.name, house.number
    rows = [
        ["Улица", "Дом", "Квартира", "Серийный номер", "Год", "Месяц", "Показание"],
        [street, number, 1, None, 2024, 2, "9"],  # 2: fine
        [street, number, 2, None, 2024, 2, "1"],  # 3: below January's 3.5
        [street, number, 99, None, 2024, 2, "9"],  # 4: unknown flat
        [street, 999, 1, None, 2024, 2, "9"],  # 5: unknown house
        [street, number, 3, None, 2024, 2, "12,5x"],  # 6: bad number
        [street, number, 1, None, 2024, 2, "9"],  # 7: the meter's second reading
        [street, number, 4, None, 2024, 3, "9"],  # 8: another month
        [street, number, 4, "NOPE", 2024, 2, "9"],  # 9: a serial not on this flat
        [two.street.name, two.number, 1, None, 2024, 2, "9"],  # 10: which of two meters?
        [street, "abc", 4, None, 2024, 2, "9"],  # 11: bad house number
        [street, number, 4, None, 2024, 2, "-1"],  # 12: negative
    ]
    body = run(operator_client, spreadsheet(fmt, rows), kind="readings", fmt=fmt, batch_size=4)
    errors = {(e["row"], e["column"]): e for e in body["errors"]}
    assert set(errors) == {
        (3, "Показание"), (4, "Квартира"), (5, "Дом"), (6, "Показание"), (7, ""),
        (8, "Месяц"), (9, "Серийный номер"), (10, "Серийный номер"), (11, "Дом"),
        (12, "Показание"),
    }  # fmt: skip
    assert "below the earlier reading 3.500" in errors[(3, "Показание")]["message"]
    assert errors[(4, "Квартира")]["message"] == "No flat [99] in this house."
    assert errors[(6, "Показание")]["value"] == "12,5x"
    assert errors[(7, "")]["message"] == "Repeats row 2."
    assert "one month per file" in errors[(8, "Месяц")]["message"]
    assert "several meters" in errors[(10, "Серийный номер")]["message"]
    assert errors[(11, "Дом")]["message"] == "Not a whole number."
    assert "cannot be negative" in errors[(12, "Показание")]["message"]
    assert body["counts"]["failed"] == 10
    assert body["status"] == "FAILED"


def test_row_errors_are_in_the_uploaders_language(operator_client):
    """The job keeps the language of the upload (Accept-Language, the admin's language) and
    the worker writes the row errors in it, the meter rule's and the file's alike."""
    house = house_with_flats(flats=2, months=[(2024, 1)])
    street, number = house.street.name, house.number
    rows = [
        ["Улица", "Дом", "Квартира", "Год", "Месяц", "Показание"],
        [street, number, 1, 2024, 2, "1"],  # below January's reading
        [street, number, 99, 2024, 2, "9"],
        [street, 999, 1, 2024, 2, "9"],
        [street, number, 2, 2024, 2, "abc"],
        [street, number, 2, 2024, 2, "9"],
        [street, number, 2, 2024, 2, "9"],
    ]
    operator_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    body = run(operator_client, xlsx_bytes(rows), kind="readings")
    messages = {e["row"]: e["message"] for e in body["errors"]}
    assert body["job"].language == "ru"
    assert "меньше прежнего показания" in messages[2]
    assert messages[3] == "В этом доме нет квартиры [99]."
    assert messages[4] == f"Нет дома 999 на улице {street}."
    assert messages[5] == "Не число."
    assert messages[7] == "Повторяет строку 6."
    assert body["error"] == "Строк с ошибками: 5; ничего не импортировано."

    operator_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = run(operator_client, xlsx_bytes(rows), kind="readings", mode="valid_rows")
    assert {e["row"]: e["message"] for e in body["errors"]}[3] == "No flat [99] in this house."


def test_houses_row_errors(operator_client):
    house = house_with_flats(flats=1)
    serial = WaterMeter.objects.get(flat__house=house).serial
    rows = [
        ["street", "house", "flat", "area", "serial"],
        ["A St", 1, 1, "30", serial],  # 2: a serial of another flat
        ["A St", 1, 2, None, None],  # 3: a new flat needs an area
        ["A St", 1, 3, "0", None],  # 4: area not above 0
        ["A St", 1, 4, "30", "DUP"],  # 5
        ["A St", 1, 5, "30", "DUP"],  # 6: the same serial twice in the file
        ["A St", 0, 1, "30", None],  # 7: house 0
        [" ", 1, 1, "30", None],  # 8: no street
    ]
    body = run(operator_client, xlsx_bytes(rows), kind="houses", mode="valid_rows")
    errors = {(e["row"], e["column"]): e["message"] for e in body["errors"]}
    assert errors == {
        (2, "serial"): f"Serial {serial!r} is already in use.",
        (3, "area"): "Flat 2 is new: its area is required.",
        (4, "area"): "An area must be above 0.",
        (6, ""): "Repeats row 5.",
        (7, "house"): "Must be 1 or more.",
        (8, "street"): "A value is required.",
    }
    assert WaterMeter.objects.get(serial="DUP").flat.number == 4


def test_errors_xlsx_has_the_failed_rows_with_an_error_column(operator_client):
    house = house_with_flats(flats=2, months=[(2024, 1)])
    content = xlsx_bytes(reading_rows("en", february(house, {1: "bad", 2: 9})))
    body = run(operator_client, content, kind="readings", mode="valid_rows")
    assert body["errors_url"] == f"/api/v1/imports/{body['id']}/errors.xlsx"
    response = operator_client.get(body["errors_url"])
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*READING_HEADERS["en"], "error"]
    assert rows[1][:3] == [house.street.name, str(house.number), "1"]
    assert rows[1][6] == "bad"
    assert rows[1][7] == "value: Not a number."
    assert len(rows) == 2


# --- Idempotency, limits, bad files, permissions -----------------------------------------------


def test_the_same_file_twice_returns_the_same_job(operator_client):
    house = house_with_flats(flats=2, months=[(2024, 1)])
    content = xlsx_bytes(reading_rows("en", february(house, {1: 9, 2: 9})))
    first = run(operator_client, content, kind="readings")
    again = upload(operator_client, content, kind="readings")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert ImportJob.objects.count() == 1
    assert MeterReading.objects.filter(month=2).count() == 2
    # A dry run of the same file, or another kind, is another job.
    assert upload(operator_client, content, kind="readings", dry_run=True).status_code == 202


def test_a_file_over_the_limit_is_a_413(operator_client, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    content = b"street,house,flat,year,month,value\n" + b"x" * (1024 * 1024 + 10)
    response = upload(operator_client, content, kind="readings", fmt="csv")
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"street;house;flat\nA;1;1\n", "r.csv", "missing_columns"),
        (b"\xd0\xcf\x11\xe0 old excel", "r.xls", "bad_xlsx"),
        (b"", "r.csv", "empty"),
        (b"\n\n", "r.csv", "no_header"),
        (b"PK\x03\x04 not really a zip", "r.xlsx", "unreadable_file"),
    ],
)
def test_a_file_that_is_not_this_kind_is_a_400(operator_client, content, name, code):
    file = io.BytesIO(content)
    file.name = name
    response = operator_client.post(
        "/api/v1/imports/", {"file": file, "kind": "readings"}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not ImportJob.objects.exists()


def test_bad_kind_is_a_400_and_residents_are_refused(operator_client, api_client, db):
    from accounts.models import User

    assert upload(operator_client, b"a\n", kind="cats", fmt="csv").status_code == 400
    api_client.force_authenticate(User.objects.create_user(username="resident"))
    assert upload(api_client, b"a\n", kind="readings", fmt="csv").status_code == 403
    assert api_client.get("/api/v1/exports/registry.csv").status_code == 403
    assert api_client.get("/api/v1/imports/templates/readings.xlsx").status_code == 403


@pytest.mark.parametrize("kind", ["readings", "houses", "tariffs"])
def test_templates_have_the_headers_and_an_example_row(operator_client, kind):
    from imports.kinds import KINDS

    for lang in ("en", "ru"):
        response = operator_client.get(f"/api/v1/imports/templates/{kind}.xlsx?lang={lang}")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))
        columns = KINDS[kind].columns
        assert list(rows[0]) == [c.ru if lang == "ru" else c.name for c in columns]
        assert len(rows) == 2
        assert any(rows[1])


def test_the_template_filled_in_imports(operator_client):
    house = house_with_flats(flats=1, months=[(2024, 1)])
    response = operator_client.get("/api/v1/imports/templates/readings.xlsx?lang=ru")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    sheet.delete_rows(2)
    sheet.append([house.street.name, house.number, 1, None, 2024, 2, 8])
    buffer = io.BytesIO()
    book.save(buffer)
    body = run(operator_client, buffer.getvalue(), kind="readings")
    assert body["counts"]["created"] == 1, body


def test_a_dry_run_is_confirmed_through_the_api(operator_client):
    from imports import runs

    house = house_with_flats(flats=2, months=[(2024, 1)])
    content = xlsx_bytes(reading_rows("en", february(house, {1: 9, 2: 9})))
    dry = run(operator_client, content, kind="readings", dry_run=True)
    assert readings_of(house) == {}
    response = operator_client.post(
        f"/api/v1/imports/{dry['id']}/confirm/", {"mode": "valid_rows"}, format="json"
    )
    assert response.status_code == 202, response.content
    real = response.json()
    assert (real["dry_run"], real["mode"]) == (False, "valid_rows")
    runs.execute_import(job_id=real["id"], pause=0)
    assert readings_of(house) == {1: Decimal(9), 2: Decimal(9)}
    again = operator_client.post(f"/api/v1/imports/{real['id']}/confirm/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "not_dry_run"


@pytest.mark.postgres_only  # elsewhere reading_facts is the portable twin itself
def test_the_batch_query_gives_what_the_meter_service_reads():
    """The readings kind's one-statement lookup (PostgreSQL) and its portable twin (the meter
    service's reading_neighbours + this month's reading) agree, so the rule sees the same
    facts on either database."""
    from imports import sql

    months = [(2023, 11), (2023, 12), (2024, 1), (2024, 2), (2024, 3)]
    house = house_with_flats(flats=3, meters_per_flat=2, months=months)
    ids = list(WaterMeter.objects.filter(flat__house=house).values_list("pk", flat=True))
    MeterReading.objects.filter(meter_id=ids[0], month=2).delete()
    MeterReading.objects.filter(meter_id=ids[1]).delete()
    for year, month in [(2024, 2), (2024, 1), (2023, 10), (2024, 4)]:
        orm_neighbours, orm_existing = sql.reading_facts_portable(ids, year, month)
        sql_neighbours, sql_existing = sql.reading_facts(ids, year, month)
        assert sql_existing == orm_existing
        for meter_id in ids:
            orm = orm_neighbours.get(meter_id, {})
            sql_facts = sql_neighbours[meter_id]
            for key in ("earlier", "later", "same"):
                assert (orm.get(key) or None) == (sql_facts[key] or None), (meter_id, key)


def test_the_address_lookup_and_its_portable_twin_agree():
    """Each row's house, flat and candidate meters: the PostgreSQL statement and the ORM twin
    the SQLite quick start runs give the same tuples, found or not."""
    from imports import sql

    house = house_with_flats(flats=2, meters_per_flat=2, months=[(2024, 1)])
    other = house_with_flats(flats=1, months=[(2024, 1)])
    serial = WaterMeter.objects.filter(flat__house=house, flat__number=2).first().serial
    street, number = house.street.name, house.number
    addresses = [
        (2, street, number, 1, None),  # both meters of the flat
        (3, street, number, 2, serial),  # the one with the serial
        (4, street, number, 2, "no-such-serial"),
        (5, street, number, 99, None),  # no such flat
        (6, street, 999, 1, None),  # no such house
        (7, "No Such St", number, 1, None),
        (8, other.street.name, other.number, 1, None),
    ]
    found = sql.resolve_addresses(addresses)
    assert found == sql._resolve_addresses_portable(addresses)
    assert sql.resolve_addresses([]) == sql._resolve_addresses_portable([]) == []
    assert [row[0] for row in found] == [2, 2, 3, 4, 5, 6, 7, 8]
    flat_1, flat_2 = (house.flats.get(number=n).pk for n in (1, 2))
    assert [row[1:4] for row in found[:2]] == [
        (house.pk, flat_1, pk)
        for pk in WaterMeter.objects.filter(flat_id=flat_1)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    assert found[2][1:3] == (house.pk, flat_2)
    assert found[2][4] == serial
    assert found[3][1:4] == (house.pk, flat_2, None)
    assert found[4][1:4] == (house.pk, None, None)
    assert found[5][1:4] == found[6][1:4] == (None, None, None)
    assert found[7][1] == other.pk
    assert found[7][3] is not None


HOSTILE_TEXTS = [
    'Quote "St"',
    "back\\slash \\",
    "comma, {brace}",
    "NULL",
    "",
    " spaced ",
    "it's",
    "Улица Ленина",
    '\\"',
    None,
]


@pytest.mark.postgres_only
def test_the_array_parameters_reach_postgresql_as_given():
    """The batch statements' array literals, built by hand for speed, give PostgreSQL exactly
    the values, whatever a file's text holds (quotes, backslashes, commas, braces, the word
    NULL) and whatever the numbers look like."""
    from django.db import connection

    from imports import sql

    numbers = [Decimal("123.456"), Decimal("1E+3"), Decimal("0.000"), None, Decimal("-5")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::numeric[], %s::bigint[], %s::int[]",
            [
                sql.text_array(HOSTILE_TEXTS),
                sql.numeric_array(numbers),
                sql.int_array([1, 2**40, -3]),
                sql.int_array([]),
            ],
        )
        texts, decimals, big, empty = cursor.fetchone()
    assert texts == HOSTILE_TEXTS
    assert decimals == numbers
    assert big == [1, 2**40, -3]
    assert empty == []


def test_an_address_with_quotes_and_backslashes_resolves():
    """A street named with the array literal's own metacharacters is found (and a lookalike
    without them is not)."""
    from imports import sql

    house = house_with_flats(flats=1, months=[(2024, 1)])
    Street.objects.filter(pk=house.street_id).update(name=HOSTILE_TEXTS[1] + HOSTILE_TEXTS[0])
    name = HOSTILE_TEXTS[1] + HOSTILE_TEXTS[0]
    found = sql.resolve_addresses(
        [(2, name, house.number, 1, None), (3, name.replace("\\", ""), house.number, 1, None)]
    )
    assert found[0][1] == house.pk
    assert found[1][1] is None


def test_the_write_pass_checks_the_staged_rows_again(operator_client, monkeypatch):
    """all_or_nothing writes from the rows its validate pass staged; a change made between
    the passes (here a later reading below the file's) still fails the row, not the rule."""
    from imports import runs

    house = house_with_flats(flats=2, months=[(2024, 1)])
    meter = WaterMeter.objects.get(flat__house=house, flat__number=1)
    finish = runs._finish_pass

    def change_between_passes(job):
        ended = finish(job)
        if job.phase == ImportJob.Phase.WRITE and not ended:
            MeterReading.objects.create(meter=meter, year=2024, month=3, value=Decimal(5))
        return ended

    monkeypatch.setattr(runs, "_finish_pass", change_between_passes)
    content = xlsx_bytes(reading_rows("en", february(house, {1: 9, 2: 9})))
    body = run(operator_client, content, kind="readings")
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 1}
    assert body["errors"][0]["row"] == 2
    assert "above the later reading 5.000" in body["errors"][0]["message"]
    assert readings_of(house) == {2: Decimal(9)}


def test_the_xlsx_reader_reads_what_openpyxl_reads(tmp_path):
    """The lean sheet parser gives openpyxl's values: numbers, text, booleans, dates by
    their format, empty and missing rows and cells (line numbers stay right)."""
    from openpyxl import Workbook

    from imports.formats import SheetReader

    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b", "c", "d"])
    sheet.append([1, 2.5, "x y", date(2024, 1, 2)])
    sheet.append([])
    sheet.append([None, True, "=1+1", "-5"])
    sheet["F7"] = "far"
    path = tmp_path / "cells.xlsx"
    book.save(path)
    reference = load_workbook(path, read_only=True, data_only=True).worksheets[0]
    expected = [list(row) for row in reference.iter_rows(min_row=2, values_only=True)]
    with SheetReader(path, "xlsx") as reader:
        ours = list(reader.rows())
    assert [line for line, _ in ours] == [2, 3, 4, 5, 6, 7]
    for (_, cells), want in zip(ours, expected, strict=True):
        assert cells + [None] * (len(want) - len(cells)) == want


def test_an_upload_over_the_general_body_limit_reaches_the_import(operator_client, settings):
    """Other paths refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE; an import file of a few
    megabytes passes (LARGE_BODY_PATHS) and is answered by the import itself."""
    line = "Lenina St,1,1,,2024,2,1.5," + "x" * 60 + "\n"
    body = "street,house,flat,serial,year,month,value,note\n" + line * 30000
    content = body.encode()
    assert len(content) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = upload(operator_client, content, kind="readings", fmt="csv", dry_run=True)
    assert response.status_code == 202, response.content
