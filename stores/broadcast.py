"""Publishing stock reports to websocket subscribers from synchronous code (views, services).

`async_to_sync(layer.group_send)` from a plain thread builds a new event loop per call, and
channels_redis opens new Redis connections per loop: ~10 ms per change. So this module keeps one
event loop per process in a daemon thread, so the layer's connections are reused (~1 ms). The
in-memory layer's queues belong to the server's own loop, so for it the plain async_to_sync
route (which runs on that loop from a sync_to_async thread, and never blocks) is kept.

The push happens after the change is committed and never holds its answer for long: the caller
waits at most STOCK_PUSH_WAIT_MS (100 ms); a send still pending then (a stuck channel layer)
finishes or fails on its own in the publisher loop, within SEND_TIMEOUT.
"""

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 5.0  # seconds a background send may take before it is given up


def store_group(store_id: str) -> str:
    """The Channels group of a store's subscribers (store ids are already group-name safe)."""
    return f"stores.{store_id}"


class _PublisherLoop:
    """One event loop per process (re-created after a fork), running in a daemon thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="stock-report-publisher", daemon=True
                )
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


_publisher = _PublisherLoop()


async def _send(layer: Any, group: str, message: dict[str, Any]) -> None:
    try:
        await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT)
    except Exception:  # the change is committed; a missed live update is only logged
        logger.exception("could not publish the stock report to %s", group)


def publish_report(report: dict) -> None:
    """Send a report to every websocket subscriber of its store; never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    group = store_group(report["store"]["store_id"])
    # The JSON text is encoded once here, not once per subscriber.
    message = {"type": "stock.report", "report": report, "text": json.dumps(report)}
    if isinstance(layer, InMemoryChannelLayer):
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.exception("could not publish the stock report to %s", group)
        return
    future = asyncio.run_coroutine_threadsafe(_send(layer, group, message), _publisher.get())
    try:
        future.result(timeout=settings.STOCK_PUSH_WAIT_MS / 1000)
    except FutureTimeout:
        logger.warning("stock report push to %s still pending, left to the background", group)
