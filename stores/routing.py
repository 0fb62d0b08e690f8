from core.channels_auth import TokenAuthMiddlewareStack
from core.routers import optional_slash
from stores.consumers import StoreStockConsumer
from stores.fanout import keep_server_send

websocket_urlpatterns = optional_slash(
    r"^ws/stores/(?P<store_id>[^/]+)",
    keep_server_send(TokenAuthMiddlewareStack(StoreStockConsumer.as_asgi())),
)
