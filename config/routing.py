"""Websocket routes of every app."""

from stores.routing import websocket_urlpatterns as stores_websockets

websocket_urlpatterns = [*stores_websockets]
