from core.channels_auth import TokenAuthMiddlewareStack
from core.routers import optional_slash
from stores.consumers import StoreStockConsumer

websocket_urlpatterns = optional_slash(
    r"^ws/stores/(?P<store_id>[^/]+)", TokenAuthMiddlewareStack(StoreStockConsumer.as_asgi())
)
