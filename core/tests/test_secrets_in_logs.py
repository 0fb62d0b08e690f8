"""Websocket tokens need not be in the URL, and a token in a logged URL is redacted."""

import asyncio
import json
import logging

import httpx
import pytest
import websockets

from core.logs import RedactSecretsFilter, redact
from core.testing import uvicorn_server
from stores.tests.factories import StockItemFactory, StoreFactory, UserFactory


def test_redact_hides_token_values_in_urls():
    assert redact("GET /ws/stores/a?token=abc123&x=1 HTTP/1.1") == (
        "GET /ws/stores/a?token=[redacted]&x=1 HTTP/1.1"
    )
    assert redact('"WebSocket /ws/x?foo=1&token=eyJ.a.b" 403') == (
        '"WebSocket /ws/x?foo=1&token=[redacted]" 403'
    )
    assert redact("/api/places/?page=2") == "/api/places/?page=2"


def test_filter_redacts_tuple_and_dict_arguments():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s"',
        ("1.2.3.4", "GET", "/?token=s3"),
        None,
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == '1.2.3.4 - "GET /?token=[redacted]"'
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(U)s?%(q)s", None, None)
    record.args = {"U": "/ws", "q": "token=s3"}
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "/ws?token=[redacted]"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_uvicorn_logs_no_token_and_websocket_accepts_the_token_as_subprotocol():
    StockItemFactory(store=StoreFactory(store_id="abc111"), item_id="apple", quantity=5)
    key = UserFactory().auth_token.key

    with uvicorn_server("--log-level", "info", "--access-log") as (base, log):
        httpx.get(f"http://{base}/healthz?token={key}", timeout=5)

        async def scenario():
            # The token as a subprotocol: nothing secret in the URL; the server echoes "token".
            async with websockets.connect(
                f"ws://{base}/ws/stores/abc111", subprotocols=["token", key], open_timeout=10
            ) as ws:
                assert ws.subprotocol == "token"
                first = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert first["store"]["report"] == [{"item_id": "apple", "quantity": 5}]
            # The old query-string token still works.
            async with websockets.connect(f"ws://{base}/ws/stores/abc111?token={key}") as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert first["store"]["store_id"] == "abc111"

        asyncio.run(scenario())
        text = log.read_text()

    assert "/healthz?token=[redacted]" in text
    assert "/ws/stores/abc111?token=[redacted]" in text
    assert key not in text
