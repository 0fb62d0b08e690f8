"""One end-to-end run through a real uvicorn process and a real websocket client."""

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
import websockets

from core.testing import BASE_DIR, process_env, stop_process, wait_until
from stores.tests.factories import OperatorFactory, StockItemFactory, StoreFactory, UserFactory


@pytest.fixture
def asgi_server():
    """uvicorn serving config.asgi on a socket bound here to a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--fd", str(sock.fileno()), "--lifespan", "off", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=process_env(DB_CONN_MAX_AGE="0"), stdout=out,
            stderr=subprocess.STDOUT, pass_fds=[sock.fileno()], start_new_session=True,
        )  # fmt: skip
    sock.close()
    base = f"127.0.0.1:{port}"

    def ready():
        try:
            return httpx.get(f"http://{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            return False

    try:
        wait_until(ready, timeout=30, message="uvicorn did not start")
        yield base
    finally:
        stop_process(proc)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_change_over_http_reaches_real_websocket_client(asgi_server):
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=5)
    reader = UserFactory().auth_token.key
    operator = OperatorFactory().auth_token.key

    async def scenario():
        url = f"ws://{asgi_server}/ws/stores/abc111?token={reader}"
        async with websockets.connect(url, open_timeout=10) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["store"]["report"] == [{"item_id": "apple", "quantity": 5}]
            async with httpx.AsyncClient(base_url=f"http://{asgi_server}") as http:
                response = await http.post(
                    "/stores/abc111/",
                    json={"operation": "supply", "item_id": "apple", "quantity": 5},
                    headers={"Authorization": f"Token {operator}"},
                )
            assert response.status_code == 200
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert pushed == response.json()
            assert pushed["store"]["report"] == [{"item_id": "apple", "quantity": 10}]

        # Without a token the server closes the socket with 4401.
        async with websockets.connect(f"ws://{asgi_server}/ws/stores/abc111") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())
