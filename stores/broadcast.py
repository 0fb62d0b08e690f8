"""Publishing stock reports to websocket subscribers from synchronous code (views, services).

`async_to_sync(layer.group_send)` from a plain thread builds a new event loop per call, and
channels_redis opens new Redis connections per loop: ~10 ms per change. For the Redis layer
this module keeps one event loop per process in a daemon thread, so its connections are reused
(~1 ms). The in-memory layer's queues belong to the server's own loop, so for it the plain
async_to_sync route (which runs on that loop from a sync_to_async thread) is kept.
"""

import asyncio
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 5.0  # seconds; the change is committed already, a stuck layer must not hang it


def store_group(store_id: str) -> str:
    """The Channels group of a store's subscribers (store ids are already group-name safe)."""
    return f"stores.{store_id}"


class _PublisherLoop:
    """One event loop per process (re-created after a fork), running in a daemon thread."""

    def __init__(self):
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


def _uses_redis(layer) -> bool:
    return type(layer).__module__.startswith("channels_redis")


def publish_report(report: dict) -> None:
    """Send a report to every websocket subscriber of its store; never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    store_id = report["store"]["store_id"]
    message = {"type": "stock.report", "report": report}
    try:
        if _uses_redis(layer):
            future = asyncio.run_coroutine_threadsafe(
                layer.group_send(store_group(store_id), message), _publisher.get()
            )
            future.result(timeout=SEND_TIMEOUT)
        else:
            async_to_sync(layer.group_send)(store_group(store_id), message)
    except Exception:  # the change is committed; a missed live update must not turn it into 500
        logger.exception("could not publish the stock report of %s", store_id)
