import pytest

from accounts.models import User
from billing import services
from billing.models import RentRun
from housing.tests.factories import global_tariffs, house_with_flats

pytestmark = pytest.mark.django_db

PAGES = [
    "street",
    "house",
    "flat",
    "watermeter",
    "meterreading",
    "tariff",
]


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser(username="root", password=None))
    return client


def test_admin_lists_and_forms_render(admin_client):
    global_tariffs()
    house = house_with_flats(flats=2, months=[(2024, 1), (2024, 2)])
    run, _ = services.start_rent_run(house=house, year=2024, month=2)
    services.execute_run(run_id=run.pk)
    for model in PAGES:
        assert admin_client.get(f"/admin/housing/{model}/").status_code == 200, model
        assert admin_client.get(f"/admin/housing/{model}/?q=1").status_code == 200, model
    assert admin_client.get(f"/admin/housing/house/{house.pk}/change/").status_code == 200
    assert admin_client.get("/admin/billing/rentrun/").status_code == 200
    assert admin_client.get(f"/admin/billing/rentrun/{run.pk}/change/").status_code == 200
    assert admin_client.get("/admin/billing/charge/").status_code == 200


def test_admin_resume_action_retries_a_failed_run(admin_client):
    house = house_with_flats(flats=1, months=[(2024, 1)])
    run, _ = services.start_rent_run(house=house, year=2024, month=1)
    services.execute_run(run_id=run.pk)  # no tariffs: fails
    assert RentRun.objects.get().status == RentRun.Status.FAILED

    response = admin_client.post(
        "/admin/billing/rentrun/", {"action": "resume", "_selected_action": [str(run.pk)]}
    )

    assert response.status_code == 302
    assert RentRun.objects.get().status == RentRun.Status.PENDING
