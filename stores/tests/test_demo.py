import io

import pytest

from accounts import demo as accounts_demo
from stores import demo
from stores.models import StockItem, StockMovement, Store


@pytest.mark.django_db
def test_demo_seed_creates_stores_with_stock_once(settings):
    settings.STORE_IDS = []
    accounts_demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    notes = demo.seed(stdout=io.StringIO())
    assert any("ws://localhost:8000/ws/stores/abc111?token=" in line for line in notes)
    assert {"abc111", "xyz000", "main"} <= set(Store.objects.values_list("store_id", flat=True))
    assert StockItem.objects.get(store__store_id="abc111", item_id="apple").quantity == 10
    assert StockMovement.objects.filter(request_id="demo-seed").count() == 7
