import pytest

from accounts.models import User
from billing import runs, services
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
    runs.execute_run(run_id=run.pk)
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
    runs.execute_run(run_id=run.pk)  # no tariffs: fails
    assert RentRun.objects.get().status == RentRun.Status.FAILED

    response = admin_client.post(
        "/admin/billing/rentrun/", {"action": "resume", "_selected_action": [str(run.pk)]}
    )

    assert response.status_code == 302
    assert RentRun.objects.get().status == RentRun.Status.PENDING


def test_rent_run_is_started_from_the_add_page_through_the_service(admin_client):
    global_tariffs()
    house = house_with_flats(flats=3, months=[(2024, 1)])
    page = admin_client.get("/admin/billing/rentrun/add/")
    assert page.status_code == 200
    assert 'name="house"' in page.content.decode()

    response = admin_client.post(
        "/admin/billing/rentrun/add/", {"house": house.pk, "year": 2024, "month": 1}
    )

    run = RentRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/billing/rentrun/{run.pk}/change/"
    assert (run.house, run.year, run.month, run.status) == (house, 2024, 1, "PENDING")
    assert run.created_by.username == "root"
    # The same start again finds the active run instead of starting a second one.
    admin_client.post("/admin/billing/rentrun/add/", {"house": house.pk, "year": 2024, "month": 1})
    assert RentRun.objects.count() == 1


@pytest.mark.parametrize(
    ("month", "field"),
    [({"year": 2024, "month": 13}, "month"), ({"year": 2999, "month": 1}, "year")],
)
def test_bad_month_on_the_add_page_is_a_form_error(admin_client, month, field):
    house = house_with_flats(flats=1)
    response = admin_client.post("/admin/billing/rentrun/add/", {"house": house.pk, **month})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not RentRun.objects.exists()


def test_future_month_is_refused_by_the_service_rule(admin_client):
    house = house_with_flats(flats=1)
    response = admin_client.post(
        "/admin/billing/rentrun/add/", {"house": house.pk, "year": 2100, "month": 12}
    )
    assert "is in the future" in str(response.context["form"].errors)
    assert not RentRun.objects.exists()


def test_houses_action_starts_one_run_per_house_with_optional_recalculation(admin_client):
    global_tariffs()
    houses = [house_with_flats(flats=2, months=[(2024, 1)]) for _ in range(2)]
    selected = [h.pk for h in houses]
    ask = admin_client.post(
        "/admin/housing/house/", {"action": "start_rent_runs", "_selected_action": selected}
    )
    assert ask.status_code == 200
    assert 'name="month"' in ask.content.decode()
    assert not RentRun.objects.exists()

    done = admin_client.post(
        "/admin/housing/house/",
        {"action": "start_rent_runs", "_selected_action": selected, "apply": "1",
         "year": 2024, "month": 1},
    )  # fmt: skip
    assert done.status_code == 302
    started = RentRun.objects.order_by("house_id")
    assert [r.house_id for r in started] == sorted(selected)
    for run in started:
        runs.execute_run(run_id=run.pk)

    admin_client.post(
        "/admin/housing/house/",
        {"action": "start_rent_runs", "_selected_action": selected[:1], "apply": "1",
         "year": 2024, "month": 1, "recalculate": "on"},
    )  # fmt: skip
    again = RentRun.objects.filter(house_id=selected[0], recalculate=True)
    assert again.count() == 1


def test_run_page_shows_progress_lines_and_no_save_buttons(admin_client):
    global_tariffs()
    house = house_with_flats(flats=120, months=[(2024, 1)])
    run, _ = services.start_rent_run(house=house, year=2024, month=1)
    runs.execute_run(run_id=run.pk, batch_size=1000)
    url = f"/admin/billing/rentrun/{run.pk}/change/"

    page = admin_client.get(url).content.decode()
    assert "<progress" in page
    assert "120 / 120 (100.0 %)" in page
    assert 'name="_save"' not in page
    assert "deletelink" not in page
    assert page.count('class="field-flat"') == 50  # one page of lines
    assert 'href="?lines_page=3#lines"' in page
    last = admin_client.get(url + "?lines_page=3").content.decode()
    assert last.count('class="field-flat"') == 20
    assert f"{house}, flat 120" in last
    assert admin_client.get(url + "?lines_page=x").status_code == 200

    progress = admin_client.get(f"/admin/billing/rentrun/{run.pk}/progress/").json()
    assert progress["status"] == "COMPLETED"
    assert (progress["done"], progress["total"], progress["percent"]) == (120, 120, 100.0)


def test_run_list_is_compact_and_runs_cannot_be_deleted(admin_client):
    house = house_with_flats(flats=1)
    run, _ = services.start_rent_run(house=house, year=2024, month=1)
    page = admin_client.get("/admin/billing/rentrun/").content.decode()
    assert f">{str(run.pk)[:8]}</a>" in page
    assert f">{run.pk}<" not in page
    assert "delete_selected" not in page
    assert admin_client.post(f"/admin/billing/rentrun/{run.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/billing/rentrun/{run.pk}/change/", {}).status_code == 403
    assert RentRun.objects.filter(pk=run.pk).exists()
