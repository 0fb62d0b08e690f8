"""The admin's import page (upload, dry-run preview, confirm, progress, error file) and the
export buttons on the houses, readings, tariffs and charges lists."""

import io

import pytest

from accounts.models import User
from housing.models import MeterReading
from housing.tests.factories import house_with_flats
from imports import runs
from imports.models import ImportJob
from imports.tests.conftest import xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(username="root", password=None))
    return client


def test_upload_preview_confirm_and_progress(admin_client):
    house = house_with_flats(flats=2, months=[(2024, 1)])
    rows = [["street", "house", "flat", "year", "month", "value"]]
    rows += [
        [house.street.name, house.number, 1, 2024, 2, 9],
        [house.street.name, 999, 1, 2024, 2, 9],
    ]
    page = admin_client.get("/admin/imports/importjob/add/")  # the upload page, also at upload/
    assert page.status_code == 200
    assert b'name="kind"' in page.content
    page = admin_client.get("/admin/imports/importjob/upload/")
    assert page.status_code == 200
    assert b"/api/v1/imports/templates/readings.xlsx" in page.content
    file = io.BytesIO(xlsx_bytes(rows))
    file.name = "feb.xlsx"
    response = admin_client.post(
        "/admin/imports/importjob/upload/",
        {"file": file, "kind": "readings", "mode": "valid_rows", "dry_run": "on"},
    )
    dry = ImportJob.objects.get()
    assert response.url == f"/admin/imports/importjob/{dry.pk}/job/"
    page = admin_client.get(response.url).content.decode()
    assert "<progress" in page
    assert f"/api/v1/imports/{dry.pk}/" in page  # polls while pending

    runs.execute_import(job_id=dry.pk, pause=0)
    page = admin_client.get(response.url).content.decode()
    assert "First rows" in page
    assert "No house 999" in page
    assert "Confirm import" in page
    assert f"/api/v1/imports/{dry.pk}/errors.xlsx" in page
    assert not MeterReading.objects.filter(month=2).exists()

    confirmed = admin_client.post(
        f"/admin/imports/importjob/{dry.pk}/confirm/", {"mode": "valid_rows"}
    )
    real = ImportJob.objects.get(dry_run=False)
    assert confirmed.url == f"/admin/imports/importjob/{real.pk}/job/"
    runs.execute_import(job_id=real.pk, pause=0)
    assert (real.sha256, real.mode) == (dry.sha256, "valid_rows")
    assert MeterReading.objects.filter(month=2).count() == 1
    assert "This file was imported" in admin_client.get(response.url).content.decode()
    assert admin_client.get("/admin/imports/importjob/").status_code == 200
    change = admin_client.get(f"/admin/imports/importjob/{real.pk}/change/")
    assert change.status_code == 200
    assert b"<progress" in change.content


def test_upload_of_a_wrong_file_shows_the_error(admin_client):
    file = io.BytesIO(b"a;b\n1;2\n")
    file.name = "x.csv"
    page = admin_client.post(
        "/admin/imports/importjob/upload/",
        {"file": file, "kind": "houses", "mode": "all_or_nothing"},
    )
    assert page.status_code == 200
    assert b"Missing columns" in page.content
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("page", "links"),
    [
        (
            "/admin/housing/house/",
            ["/api/v1/exports/registry.xlsx", "/api/v1/exports/registry.csv"],
        ),
        ("/admin/housing/tariff/", ["/api/v1/exports/tariffs.xlsx"]),
        (
            "/admin/housing/meterreading/?year=2024&month=2",
            ["/api/v1/exports/readings.xlsx", 'name="month" min="1" max="12" value="2"'],
        ),
        ("/admin/billing/charge/", ["/api/v1/exports/charges.xlsx", "/api/v1/exports/charges.csv"]),
    ],
)
def test_export_buttons_on_the_lists(admin_client, page, links):
    content = admin_client.get(page).content.decode()
    for link in links:
        assert link in content, link
