"""Live stock report of one store over a websocket."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.channels_auth import accepted_subprotocol
from stores import selectors, services
from stores.broadcast import store_group
from stores.errors import StoreNotFound

CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNKNOWN_STORE = 4404


@database_sync_to_async
def _current_report(store_id: str) -> dict[str, Any] | None:
    try:
        store = services.resolve_store(store_id=store_id)
    except StoreNotFound:
        return None
    return selectors.store_report(store=store)


class StoreStockConsumer(AsyncJsonWebsocketConsumer):
    """Sends the report on connect, then one message per committed change of the store.

    Refusals are sent as close codes after the handshake (a refused handshake would only
    show a generic HTTP 403): 4401 not signed in, 4404 unknown store.
    """

    group_name: str | None = None

    async def connect(self) -> None:
        await self.accept(subprotocol=accepted_subprotocol(self.scope))
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        store_id = self.scope["url_route"]["kwargs"]["store_id"]
        # Join before reading, so that a change committed in between is not missed.
        group = store_group(store_id)
        report = None
        if selectors.is_valid_store_id(store_id):
            await self.channel_layer.group_add(group, self.channel_name)
            self.group_name = group
            report = await _current_report(store_id)
        if report is None:
            await self.close(code=CLOSE_UNKNOWN_STORE)
            return
        await self.send_json(report)

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            self.group_name = None

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Any text is a request for the report; a non-JSON one must not kill the socket.
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nested absurdly deep
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Any message from the client asks for the current report again."""
        report = await _current_report(self.scope["url_route"]["kwargs"]["store_id"])
        if report is not None:
            await self.send_json(report)

    async def stock_report(self, event: dict[str, Any]) -> None:
        text = event.get("text")
        await (self.send(text_data=text) if text else self.send_json(event["report"]))
