"""The store page: stock inline and supply / demand through the stock service."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from stores import services
from stores.broadcast import store_group
from stores.models import StockItem, StockMovement
from stores.tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(OperatorFactory(is_superuser=True))
    return client


def stock_op(client, store, **data):
    return client.post(reverse("admin:stores_store_stock", args=[store.pk]), data, follow=True)


def test_store_page_shows_its_stock_and_the_operation_form(admin_client, store):
    services.apply_operation(store=store, operation="supply", item_id="apple", quantity=7)
    page = admin_client.get(reverse("admin:stores_store_change", args=[store.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    cells = re.sub(r"\s+", "", html)
    assert '<tdclass="field-item_id"><p>apple</p>' in cells
    assert '<tdclass="field-quantity"><p>7</p>' in cells
    assert 'class="field-last_movement"' in html
    assert reverse("admin:stores_store_stock", args=[store.pk]) in html
    assert 'name="operation"' in html


def test_supply_and_demand_go_through_the_service_and_reach_subscribers(
    admin_client, store, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(store_group(store.store_id), channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = stock_op(
                admin_client, store, operation="supply", item_id="apple", quantity=10
            )
        assert response.status_code == 200
        assert "recorded" in response.content.decode()
        message = async_to_sync(layer.receive)(channel)
    finally:
        async_to_sync(layer.group_discard)(store_group(store.store_id), channel)
    assert {"item_id": "apple", "quantity": 10} in message["report"]["store"]["report"]

    stock_op(admin_client, store, operation="demand", item_id="apple", quantity=4)
    item = StockItem.objects.get(store=store, item_id="apple")
    assert item.quantity == 6
    moves = list(item.movements.order_by("id").values_list("operation", "delta", "user"))
    assert [(op, delta) for op, delta, _user in moves] == [("supply", 10), ("demand", -4)]
    assert all(user is not None for *_rest, user in moves)


def test_shortage_is_refused_with_a_visible_message_and_nothing_changes(admin_client, store):
    services.apply_operation(store=store, operation="supply", item_id="apple", quantity=3)
    before = list(StockMovement.objects.values_list("pk", flat=True))

    response = stock_op(admin_client, store, operation="demand", item_id="apple", quantity=5)

    html = response.content.decode()
    assert 'class="error"' in html
    assert "Not enough stock: apple requested 5, available 3. Nothing was changed." in html
    assert StockItem.objects.get(store=store, item_id="apple").quantity == 3
    assert list(StockMovement.objects.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    "data",
    [
        {"operation": "demand", "item_id": "apple", "quantity": 0},
        {"operation": "steal", "item_id": "apple", "quantity": 1},
        {"operation": "supply", "item_id": "", "quantity": 1},
    ],
)
def test_bad_operation_form_is_an_error_message(admin_client, store, data):
    response = stock_op(admin_client, store, **data)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not StockItem.objects.exists()


def test_stock_items_cannot_be_deleted_around_the_movement_log(admin_client, store):
    services.apply_operation(store=store, operation="supply", item_id="apple", quantity=3)
    item = StockItem.objects.get()
    assert str(item) == "abc111 / apple"
    url = reverse("admin:stores_stockitem_delete", args=[item.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert StockItem.objects.filter(pk=item.pk).exists()


def test_staff_who_may_only_view_stores_cannot_operate_stock(client, store):
    from django.contrib.auth.models import Permission

    viewer = OperatorFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_store"))
    client.force_login(viewer)
    assert client.get(reverse("admin:stores_store_change", args=[store.pk])).status_code == 200
    response = client.post(
        reverse("admin:stores_store_stock", args=[store.pk]),
        {"operation": "supply", "item_id": "apple", "quantity": 1},
    )
    assert response.status_code == 403
    assert not StockItem.objects.exists()
