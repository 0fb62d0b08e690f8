"""The per-process fan-out of stock reports (stores/fanout.py): one channel per store per
process, every socket served in order, sockets dropped when they go."""

import asyncio
import contextlib
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from core.testing import uvicorn_server
from stores import consumers, fanout, services
from stores.tests.factories import OperatorFactory, StockItemFactory, StoreFactory, UserFactory
from stores.tests.test_consumers import TIMEOUT, connect

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def store(transactional_db):
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=5)
    return store


@pytest.fixture
def token(transactional_db):
    return UserFactory().auth_token.key


def supply(store, quantity=1) -> dict:
    """A committed change (its report is published after the commit); returns the report."""
    return services.apply_operation(
        store=store, operation="supply", item_id="apple", quantity=quantity
    )


def test_sockets_of_a_process_share_one_channel_and_leave_on_disconnect(store, token):
    async def scenario():
        sockets = [await connect(f"/ws/stores/abc111?token={token}") for _ in range(3)]
        for ws in sockets:
            await ws.receive_json_from(timeout=TIMEOUT)
        assert fanout.local_subscribers("abc111") == 3
        # One channel for the store in this process, none per socket.
        assert len(get_channel_layer()._get_layer().channels) == 1

        await sockets[0].disconnect()
        assert fanout.local_subscribers("abc111") == 2
        report = await sync_to_async(supply)(store)
        for ws in sockets[1:]:
            assert await ws.receive_json_from(timeout=TIMEOUT) == report

        for ws in sockets[1:]:
            await ws.disconnect()
        assert fanout.local_subscribers("abc111") == 0
        await asyncio.sleep(0.1)  # the store's channel leaves its group in the background
        layer = get_channel_layer()._get_layer()
        assert layer.channels == {}
        assert layer.groups == {}

    asyncio.run(scenario())


def test_refused_sockets_are_not_subscribed(store, token):
    async def scenario():
        unknown = await connect(f"/ws/stores/nope?token={token}")
        assert (await unknown.receive_output(timeout=TIMEOUT))["code"] == 4404
        anonymous = await connect("/ws/stores/abc111")
        assert (await anonymous.receive_output(timeout=TIMEOUT))["code"] == 4401
        assert fanout.local_subscribers("nope") == fanout.local_subscribers("abc111") == 0

    asyncio.run(scenario())


def test_a_failing_consumer_leaves_the_store(store, token, monkeypatch):
    async def broken_read(store_id):
        raise RuntimeError("database gone")

    monkeypatch.setattr(consumers, "_current_report", broken_read)

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        with pytest.raises(RuntimeError, match="database gone"):
            await ws.receive_output(timeout=TIMEOUT)
        assert fanout.local_subscribers("abc111") == 0

    asyncio.run(scenario())


def test_changes_committed_while_the_report_is_read_are_pushed_after_it(store, token, monkeypatch):
    read_report = consumers._current_report

    async def read_after_two_changes(store_id):
        # The changes commit after the socket joined and before its report is read: their
        # pushes reach this process while the consumer is still busy with the report.
        await sync_to_async(supply)(store, 2)
        await sync_to_async(supply)(store, 3)
        await asyncio.sleep(0.3)
        return await read_report(store_id)

    monkeypatch.setattr(consumers, "_current_report", read_after_two_changes)

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        quantities = [
            (await ws.receive_json_from(timeout=TIMEOUT))["store"]["report"][0]["quantity"]
            for _ in range(3)
        ]
        # The report first (both changes in), then the two pushes: the last word is current.
        assert quantities == [10, 7, 10]
        assert await ws.receive_nothing(timeout=0.2)
        await ws.disconnect()

    asyncio.run(scenario())


def test_in_memory_layer_of_the_quick_start_pushes_changes(store, token, settings, client_for):
    settings.CHANNEL_LAYERS = IN_MEMORY
    operator = client_for(OperatorFactory())

    async def scenario():
        sockets = [await connect(f"/ws/stores/abc111?token={token}") for _ in range(2)]
        for ws in sockets:
            await ws.receive_json_from(timeout=TIMEOUT)
        response = await sync_to_async(operator.post)(
            "/stores/abc111", {"operation": "supply", "item_id": "apple", "quantity": 3}
        )
        assert response.status_code == 200
        for ws in sockets:
            assert await ws.receive_json_from(timeout=TIMEOUT) == response.json()
            assert await ws.receive_nothing(timeout=0.2)
            await ws.disconnect()
        assert get_channel_layer().groups == {}

    asyncio.run(scenario())


def test_a_stuck_socket_does_not_hold_the_others():
    async def scenario():
        never = asyncio.Event()
        sent = []

        async def stuck_send(message):
            await never.wait()  # a client that stopped reading: its writes wait

        async def send(message):
            sent.append(message["text"])

        stuck, live = fanout.Subscriber(stuck_send), fanout.Subscriber(send)
        for text in ["one", "two"]:
            for subscriber in (stuck, live):
                subscriber.push({"type": "websocket.send", "text": text})
        await asyncio.sleep(0.05)
        assert sent == ["one", "two"]

    asyncio.run(scenario())


def test_a_socket_that_stopped_reading_keeps_only_its_newest_pending_reports():
    async def scenario():
        release = asyncio.Event()
        sent = []

        async def slow_send(message):
            await release.wait()
            sent.append(message["text"])

        subscriber = fanout.Subscriber(slow_send)
        texts = [str(n) for n in range(fanout.PENDING_LIMIT + 50)]
        for text in texts:
            subscriber.push({"type": "websocket.send", "text": text})
        await asyncio.sleep(0.01)  # the socket is still not reading
        release.set()
        await asyncio.sleep(0.05)
        # The newest PENDING_LIMIT reports, in order: the newest one always arrives.
        assert sent == texts[-fanout.PENDING_LIMIT :]

    asyncio.run(scenario())


@pytest.mark.slow
def test_two_asgi_processes_each_deliver_one_message_per_change(store, token):
    """Subscribers spread over two uvicorn processes: each gets every change exactly once."""
    with contextlib.ExitStack() as servers:
        bases = [servers.enter_context(uvicorn_server())[0] for _ in range(2)]

        async def scenario():
            urls = [f"ws://{bases[n % 2]}/ws/stores/abc111?token={token}" for n in range(6)]
            sockets = [await websockets.connect(url, open_timeout=10) for url in urls]
            for ws in sockets:
                await asyncio.wait_for(ws.recv(), TIMEOUT)  # the report on connect
            reports = [await sync_to_async(supply)(store, n) for n in (1, 2, 3)]
            for ws in sockets:
                received = [json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) for _ in reports]
                assert received == reports
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.3)  # nothing more
                await ws.close()

        asyncio.run(scenario())
