"""A stuck channel layer never holds a committed stock write's answer."""

import asyncio
import time

import pytest
from channels.layers import BaseChannelLayer

from core.testing import token_client
from stores.broadcast import publish_report
from stores.models import StockItem
from stores.tests.factories import OperatorFactory, StoreFactory

STUCK_SECONDS = 3


class StuckLayer(BaseChannelLayer):
    """A channel layer whose group_send hangs (a Redis that stopped answering)."""

    sends: list = []

    async def group_send(self, group, message):
        self.sends.append(group)
        await asyncio.sleep(STUCK_SECONDS)

    async def group_add(self, group, channel):
        pass

    async def group_discard(self, group, channel):
        pass


@pytest.fixture
def stuck_layer(settings):
    StuckLayer.sends = []
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "stores.tests.test_broadcast.StuckLayer"}}
    return StuckLayer


def test_publish_returns_within_100_ms_when_the_layer_hangs(stuck_layer):
    started = time.monotonic()
    publish_report({"store": {"store_id": "abc111", "report": []}})
    elapsed = time.monotonic() - started

    assert elapsed < 0.15
    assert stuck_layer.sends == ["stores.abc111"]


@pytest.mark.django_db(transaction=True)
def test_stock_write_answers_quickly_and_is_committed_when_the_layer_hangs(stuck_layer):
    StoreFactory(store_id="abc111")
    client = token_client(OperatorFactory())
    body = {"operation": "supply", "item_id": "apple", "quantity": 5}
    client.post("/stores/abc111", body, format="json")  # warm-up: imports, connections

    started = time.monotonic()
    response = client.post("/stores/abc111", body, format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["store"]["report"] == [{"item_id": "apple", "quantity": 10}]
    assert StockItem.objects.get(item_id="apple").quantity == 10
    assert len(stuck_layer.sends) == 2  # the push was attempted after each commit
    assert elapsed < 0.1 + 0.15  # the 100 ms bound plus the write itself on a busy machine
