from django.urls import re_path

from core.channels_auth import TokenAuthMiddlewareStack
from stores.consumers import StoreStockConsumer

websocket_urlpatterns = [
    re_path(
        r"^ws/stores/(?P<store_id>[^/]+)/?$",
        TokenAuthMiddlewareStack(StoreStockConsumer.as_asgi()),
    ),
]
