"""Stock reports fanned out to the websockets of a store, once per ASGI process.

Channels' own way gives every socket a channel in the layer: each change is then deserialized
and dispatched through a consumer once per socket (with a thread hop to close old database
connections before every handler), ~230 us of server CPU per delivery. Here each process holds
ONE channel per store that has sockets in it, joined to the store's group: a change arrives
once per process and its text, encoded once by the publisher, is handed to every local socket
of the store as the same ASGI message.

Each socket sends in order, one message at a time: the consumer holds `Subscriber.lock` while it
reads and sends a report of its own (on connect, on request), and pushes that arrive meanwhile
wait in the socket's queue and go out after it, as with Channels' one-message-at-a-time
dispatch. So a subscriber's last message is never older than its last report.
"""

import asyncio
import logging
from collections import deque

from channels.layers import get_channel_layer

from stores.broadcast import store_group

logger = logging.getLogger(__name__)

# The scope key of the server's own ASGI send callable (see keep_server_send).
SERVER_SEND = "stores.server_send"


def keep_server_send(app):
    """Put the server's send callable in the scope, for the pushes: the middlewares in between
    (sessions, auth) wrap `send` only for HTTP responses, and going around their wrapper saves
    ~20 % of the server's CPU per push."""

    async def application(scope, receive, send):
        return await app({**scope, SERVER_SEND: send}, receive, send)

    return application


# Pushes waiting for one socket, at most (Channels' default channel capacity). Every report is
# the store's whole stock, so when a socket that stopped reading falls further behind, dropping
# its oldest pending reports loses nothing its newest one does not say, and its memory stays
# bounded.
PENDING_LIMIT = 100

# Tasks kept referenced until they finish (the event loop holds only weak references).
_running: set[asyncio.Task] = set()


def _spawn(coro) -> asyncio.Task:
    task = asyncio.get_running_loop().create_task(coro)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


class Subscriber:
    """One websocket of a store: an ASGI send callable and the pushes waiting for it."""

    __slots__ = ("send", "lock", "_pending", "_draining", "_closed")

    def __init__(self, send):
        self.send = send
        self.lock = asyncio.Lock()
        self._pending: deque[dict] = deque(maxlen=PENDING_LIMIT)
        self._draining = False
        self._closed = False

    def push(self, message: dict) -> None:
        """Queue an ASGI message; it is sent as soon as the socket is free. Never blocks."""
        if self._closed:
            return
        self._pending.append(message)
        if not self._draining:
            self._draining = True
            _spawn(self._drain())

    async def _drain(self) -> None:
        async with self.lock:
            try:
                await self.flush()
            finally:
                self._draining = False

    async def flush(self) -> None:
        """Send the queued pushes; call it holding `lock`."""
        try:
            while self._pending:
                await self.send(self._pending.popleft())
        except Exception:  # the socket went away; its consumer leaves on the disconnect
            logger.debug("websocket gone, dropping its pending stock reports", exc_info=True)
            self._closed = True
            self._pending.clear()


class _StoreFeed:
    """The subscribers of one store in this process and the channel that receives its changes."""

    def __init__(self, layer, store_id: str):
        self.subscribers: set[Subscriber] = set()
        self.ready = asyncio.get_running_loop().create_future()
        self.task = _spawn(self._receive(layer, store_group(store_id)))

    async def _receive(self, layer, group: str) -> None:
        channel = await layer.new_channel()
        try:
            await layer.group_add(group, channel)
            self.ready.set_result(None)
            while True:
                event = await layer.receive(channel)
                text = event.get("text")
                if not isinstance(text, str):
                    logger.warning("%s: not a stock report event (%r)", group, event.get("type"))
                    continue
                message = {"type": "websocket.send", "text": text}  # one for all the sockets
                for subscriber in self.subscribers:
                    subscriber.push(message)
        except BaseException as exc:
            if not self.ready.done():
                if isinstance(exc, asyncio.CancelledError):
                    self.ready.cancel()
                else:
                    self.ready.set_exception(exc)
            raise
        finally:
            try:
                await layer.group_discard(group, channel)
            except Exception:
                logger.exception("could not leave %s", group)


# The feeds of each event loop (a process serves its sockets from one loop; tests run several).
_feeds: dict[asyncio.AbstractEventLoop, dict[str, _StoreFeed]] = {}


def _loop_feeds() -> dict[str, _StoreFeed]:
    loop = asyncio.get_running_loop()
    if loop not in _feeds:
        for closed in [other for other in _feeds if other.is_closed()]:
            del _feeds[closed]
        _feeds[loop] = {}
    return _feeds[loop]


async def join(store_id: str, subscriber: Subscriber) -> None:
    """Subscribe a socket to a store's changes; returns once changes published from now on
    reach it. Without a channel layer there are no pushes."""
    layer = get_channel_layer()
    if layer is None:
        return
    feeds = _loop_feeds()
    feed = feeds.get(store_id)
    if feed is None or feed.task.done():
        feed = feeds[store_id] = _StoreFeed(layer, store_id)
    feed.subscribers.add(subscriber)
    try:
        await asyncio.shield(feed.ready)
    except BaseException:
        leave(store_id, subscriber)
        raise


def leave(store_id: str, subscriber: Subscriber) -> None:
    """Unsubscribe a socket (any number of times); the last one out closes the store's feed."""
    feeds = _loop_feeds()
    feed = feeds.get(store_id)
    if feed is None or subscriber not in feed.subscribers:
        return
    feed.subscribers.discard(subscriber)
    if not feed.subscribers:
        del feeds[store_id]
        feed.task.cancel()  # leaves the group in the background
        if not feed.ready.done():
            feed.ready.cancel()


def local_subscribers(store_id: str) -> int:
    """How many sockets of this event loop follow the store (for tests and diagnostics)."""
    feed = _loop_feeds().get(store_id)
    return len(feed.subscribers) if feed else 0
