from django.urls import re_path

from core.channels_auth import TokenAuthMiddlewareStack
from stores.consumers import StoreStockConsumer
from stores.fanout import keep_server_send

websocket_urlpatterns = [
    re_path(
        r"^ws/stores/(?P<store_id>[^/]+)/?$",
        keep_server_send(TokenAuthMiddlewareStack(StoreStockConsumer.as_asgi())),
    ),
]
