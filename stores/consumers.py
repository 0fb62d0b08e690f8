"""Live stock report of one store over a websocket."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.channels_auth import accepted_subprotocol
from stores import fanout, selectors, services
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

    The pushes do not go through a channel per socket: the store's feed in this process
    (stores/fanout.py) writes them to the socket directly.
    """

    channel_layer_alias = None  # get_channel_layer(None) is None: no channel per socket
    store_id: str | None = None
    subscriber: fanout.Subscriber | None = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:  # also when the consumer failed: no socket stays subscribed
            self._leave()

    async def connect(self) -> None:
        await self.accept(subprotocol=accepted_subprotocol(self.scope))
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        store_id = self.scope["url_route"]["kwargs"]["store_id"]
        report = None
        if selectors.is_valid_store_id(store_id):
            self.store_id = store_id
            self.subscriber = fanout.Subscriber(self.scope.get(fanout.SERVER_SEND, self.base_send))
            # Join before reading, so that a change committed in between is not missed; its
            # push waits for the lock and goes out after this report.
            async with self.subscriber.lock:
                await fanout.join(store_id, self.subscriber)
                report = await _current_report(store_id)
                if report is not None:
                    await self.send_json(report)
        if report is None:
            self._leave()
            await self.close(code=CLOSE_UNKNOWN_STORE)

    async def disconnect(self, code: int) -> None:
        self._leave()

    def _leave(self) -> None:
        if self.subscriber is not None and self.store_id is not None:
            fanout.leave(self.store_id, self.subscriber)
            self.subscriber = None

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Any text is a request for the report; a non-JSON one must not kill the socket.
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nested absurdly deep
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Any message from the client asks for the current report again."""
        subscriber = self.subscriber
        if subscriber is None:  # refused, or gone
            return
        async with subscriber.lock:
            await subscriber.flush()  # pushes received before this read go out first
            report = await _current_report(self.store_id)
            if report is not None:
                await self.send_json(report)
