"""The operators' admin through Django's test client: every page, both languages, the
read-only base, business names and the translations. (The browser journeys are in
test_admin_browser.py.)"""

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from billing.models import Charge
from core.admin import ReadOnlyAdmin
from core.tests.admin_helpers import admin_pages, business_data, operator_request
from stores.models import ReportDelivery

pytestmark = pytest.mark.django_db

# Models only the services write: the admin shows them and changes nothing.
READ_ONLY = [
    "accounts.account",
    "accounts.movement",
    "accounts.signincode",
    "billing.charge",
    "receipts.receipt",
    "receipts.purchase",
    "receipts.placehour",
    "receipts.deadletter",
    "stores.stockitem",
    "stores.stockmovement",
    "stores.reportdelivery",
]


@pytest.fixture
def operator(db):
    return User.objects.create_superuser(username="operator", password="operator-pass")


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_admin_page_opens_in_both_languages(admin_client, operator, language):
    business_data()
    pages = admin_pages(operator)
    assert len(pages) > 60
    for url in pages:
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == language, url


def test_delete_pages_and_empty_add_forms_never_fail(admin_client, operator):
    business_data()
    pages = admin_pages(operator, delete=True)
    assert sum(url.endswith("/delete/") for url in pages) >= 10
    for url in pages:
        assert admin_client.get(url, HTTP_ACCEPT_LANGUAGE="ru").status_code == 200, url
        if url.endswith("/add/"):
            # An empty form is a page of form errors, not a crash.
            assert admin_client.post(url, {}).status_code == 200, url


@pytest.mark.parametrize("label", READ_ONLY)
def test_read_only_models_refuse_add_change_and_delete(admin_client, operator, label):
    business_data()
    model = admin.site._registry.keys()
    model = next(m for m in model if m._meta.label_lower == label)
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdmin)
    obj = model_admin.get_queryset(operator_request(operator)).first()
    assert obj is not None, label
    info = model._meta.app_label, model._meta.model_name
    before = model.objects.count()

    changelist = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert b"delete_selected" not in changelist.content
    assert reverse("admin:{}_{}_add".format(*info)).encode() not in changelist.content
    page = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    assert page.status_code == 200
    for marker in (b'name="_save"', b'name="_continue"', b"deletelink"):
        assert marker not in page.content, marker

    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403
    assert admin_client.post(reverse("admin:{}_{}_add".format(*info)), {}).status_code == 403
    change_url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    assert admin_client.post(change_url, {}).status_code == 403
    delete_url = reverse("admin:{}_{}_delete".format(*info), args=[obj.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:{}_{}_changelist".format(*info)),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert model.objects.count() == before


def test_report_deliveries_are_not_offered_for_adding(admin_client):
    page = admin_client.get("/admin/stores/reportdelivery/")
    assert b"/admin/stores/reportdelivery/add/" not in page.content
    response = admin_client.post(
        "/admin/stores/reportdelivery/add/", {"chat_id": "1", "as_document": "on"}
    )
    assert response.status_code == 403
    assert not ReportDelivery.objects.exists()


def test_objects_are_titled_by_their_business_names():
    data = business_data()
    item = data["store"].items.get()
    assert str(data["house"]) == "Садовая 5"
    assert str(data["flat"]) == "Садовая 5, flat 12"
    assert str(data["meter"]) == "SN-42 (Садовая 5, flat 12)"
    assert str(data["store"]) == "abc111"
    assert str(item) == "abc111 / apple"
    assert str(Charge.objects.get()).startswith("Садовая 5, flat 12, 2024-01: ")


def test_business_names_in_russian(admin_client):
    data = business_data()
    page = admin_client.get(
        reverse("admin:housing_flat_change", args=[data["flat"].pk]), HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert "Садовая 5, кв. 12" in page.content.decode()


def test_admin_speaks_the_browsers_language_and_api_stays_english_by_default(admin_client):
    english = admin_client.get("/admin/").content.decode()
    assert "Housing &amp; commerce: operators" in english
    assert 'href="/api/docs/"' in english
    russian = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "ЖКХ и торговля: операторы" in russian
    assert "Показания счётчиков" in russian
    assert "Складские остатки" in russian

    assert admin_client.get("/api/v1/nothing-here/").json()["detail"] == "Not found."
    ru = admin_client.get("/api/v1/nothing-here/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert ru == {"detail": "Не найдено.", "code": "not_found"}


def test_dates_and_numbers_are_localised(admin_client):
    data = business_data()
    url = reverse("admin:housing_flat_changelist")
    assert ">40.000<" in admin_client.get(url).content.decode()
    assert ">40,000<" in admin_client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    run_url = reverse("admin:billing_rentrun_change", args=[data["run"].pk])
    russian = admin_client.get(run_url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert " г. " in russian  # e.g. "1 декабря 2026 г. 6:10"


def test_language_code_setting_is_the_default_for_clients_without_accept_language(
    admin_client, settings
):
    settings.LANGUAGE_CODE = "ru"
    assert "ЖКХ и торговля" in admin_client.get("/admin/").content.decode()


def test_service_errors_land_on_the_fields_the_form_has():
    from django import forms
    from django.core.exceptions import ValidationError

    from core.admin import add_service_errors

    class ValueForm(forms.Form):
        value = forms.DecimalField()

    form = ValueForm({"value": "1"})
    assert form.is_valid()
    add_service_errors(form, ValidationError({"value": ["too low"], "year": ["too old"]}))
    assert form.errors == {"value": ["too low"], "__all__": ["too old"]}
    add_service_errors(form, ValidationError("plain"))
    assert form.non_field_errors() == ["too old", "plain"]


def test_api_error_texts_follow_accept_language(operator):
    from core.testing import token_client

    client = token_client(operator)
    english = client.get("/stores/nope")
    assert english.json() == {"detail": "Store 'nope' does not exist.", "code": "store_not_found"}
    russian = client.get("/stores/nope", HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.json() == {"detail": "Склада 'nope' нет.", "code": "store_not_found"}
    anonymous = APIClient().get("/stores/nope", HTTP_ACCEPT_LANGUAGE="ru")
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Учетные данные не были предоставлены."


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (None, "Unable to sign in with the given username and password."),
        ("ru", "Не удалось войти с этими именем пользователя и паролем."),
    ],
)
def test_sign_in_errors_follow_accept_language(operator, language, text):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = APIClient().post(
        "/auth/login/", {"username": "operator", "password": "nope"}, **headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == text
    assert response.json()["code"] == "invalid_credentials"
