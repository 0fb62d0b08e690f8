"""Data and page lists shared by the admin tests (test client and browser)."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.balances import services as balances
from accounts.models import SignInCode, User
from accounts.tests.balances.factories import ServiceFactory
from billing import runs as billing_runs
from billing import services as billing
from housing.models import Flat, House, Street, WaterMeter
from housing.tests.factories import global_tariffs
from receipts.services.consumption import consume_events
from receipts.services.ingestion import ingest_receipts
from receipts.tests.factories import receipt_payload
from stores import services as stores
from stores.models import ReportDelivery, Store


def business_data() -> dict:
    """One object of every model the admin shows, built through the services."""
    global_tariffs()
    street = Street.objects.create(name="Садовая")
    house = House.objects.create(street=street, number=5)
    flat = Flat.objects.create(house=house, number=12, area=Decimal("40.000"))
    meter = WaterMeter.objects.create(flat=flat, serial="SN-42", installed_on=date(2020, 1, 1))
    run, _ = billing.start_rent_run(house=house, year=2024, month=1)
    billing_runs.execute_run(run_id=run.pk)
    store = Store.objects.create(store_id="abc111")
    stores.apply_operation(store=store, operation="supply", item_id="apple", quantity=10)
    user = User.objects.create_user(username="alice", password="x")
    account, _ = balances.open_account(user=user)
    balances.deposit(user=user, account_id=account.pk, amount=Decimal("100.00"))
    balances.purchase(user=user, service_id=ServiceFactory.create(price=Decimal("5.00")).pk)
    ingest_receipts(
        payloads=[receipt_payload("tx-1"), receipt_payload("bad", items=[])], channel="checks"
    )
    consume_events(events=[receipt_payload("tx-1")])
    ReportDelivery.objects.create(day=date(2024, 1, 1), chat_id="1")
    now = timezone.now()
    SignInCode.objects.create(
        channel="sms", destination="+79990000000", code_hash="x", issued_at=now,
        expires_at=now + timedelta(minutes=5),
    )  # fmt: skip
    return {"house": house, "flat": flat, "meter": meter, "run": run, "store": store}


def admin_pages(operator, *, delete: bool = False) -> list[str]:
    """Every changelist, every add page offered, and the change page of one object of each
    registered model (with `delete`, also its delete page where deleting is offered)."""
    urls = []
    request = operator_request(operator)
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        obj = model_admin.get_queryset(request).first()
        if obj is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            if delete and model_admin.has_delete_permission(request, obj):
                urls.append(reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]))
    return urls


def operator_request(operator):
    """A GET request of the operator, for asking a ModelAdmin what it offers."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    return request
