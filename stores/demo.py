"""Demo stores with stock, and a storekeeper who may change it."""

from django.contrib.auth.models import Group
from django.core.management.base import OutputWrapper

from accounts.demo import demo_user
from stores import services
from stores.apps import STOREKEEPER_GROUP
from stores.models import StockItem, Store

DEMO_STOCK = {
    "abc111": {"apple": 10, "banana": 24, "cherry": 5},
    "xyz000": {"hammer": 3, "nails": 500},
    "main": {"milk": 40, "bread": 15},
}


def seed(*, stdout: OutputWrapper) -> list[str]:
    services.ensure_configured_stores()
    operator = demo_user("operator")
    for store_id, stock in DEMO_STOCK.items():
        store, created = Store.objects.get_or_create(store_id=store_id)
        # Stock is added once, through the service, so that the movement log explains it.
        if created or not StockItem.objects.filter(store=store).exists():
            services.apply_group_operation(
                store=store,
                operation="supply",
                lines=list(stock.items()),
                user=operator,
                request_id="demo-seed",
            )
    group = Group.objects.get(name=STOREKEEPER_GROUP)
    demo_user("bob").groups.add(group)
    token = operator.auth_token.key
    return [
        f"stores: {', '.join(Store.objects.values_list('store_id', flat=True))}; "
        "bob is a storekeeper (may change stock), alice may only read",
        f"  curl -H 'Authorization: Token {token}' localhost:8000/stores/abc111",
        f"  curl -H 'Authorization: Token {token}' -H 'Content-Type: application/json' "
        '-d \'{"operation": "supply", "item_id": "apple", "quantity": 5}\' '
        "localhost:8000/stores/abc111",
        f"  websocket: ws://localhost:8000/ws/stores/abc111?token={token}",
    ]
