"""Websocket behaviour through Channels' communicator, on the Redis channel layer."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from config.asgi import application
from stores import services
from stores.models import Store
from stores.tests.factories import OperatorFactory, StockItemFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


async def connect(path: str, headers=None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    message = await communicator.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close"
    return message["code"]


@pytest.fixture
def store():
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=5)
    return store


@pytest.fixture
def token():
    return UserFactory().auth_token.key


def test_connect_with_token_query_receives_current_report(store, token):
    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        assert await ws.receive_json_from(timeout=TIMEOUT) == {
            "store": {"store_id": "abc111", "report": [{"item_id": "apple", "quantity": 5}]}
        }
        await ws.disconnect()

    asyncio.run(scenario())


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_connect_with_authorization_header(store, scheme):
    user = UserFactory()
    secret = (
        user.auth_token.key if scheme == "Token" else str(RefreshToken.for_user(user).access_token)
    )

    async def scenario():
        ws = await connect(
            "/ws/stores/abc111/", [(b"authorization", f"{scheme} {secret}".encode())]
        )
        assert (await ws.receive_json_from(timeout=TIMEOUT))["store"]["store_id"] == "abc111"
        await ws.disconnect()

    asyncio.run(scenario())


def test_jwt_in_query_parameter(store):
    jwt = str(RefreshToken.for_user(UserFactory()).access_token)

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={jwt}")
        assert (await ws.receive_json_from(timeout=TIMEOUT))["store"]["report"]
        await ws.disconnect()

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["token", "jwt"])
def test_token_as_subprotocol_keeps_it_out_of_the_url(store, kind):
    user = UserFactory()
    secret = (
        user.auth_token.key if kind == "token" else str(RefreshToken.for_user(user).access_token)
    )

    async def scenario():
        ws = WebsocketCommunicator(application, "/ws/stores/abc111", subprotocols=["token", secret])
        connected, subprotocol = await ws.connect(timeout=TIMEOUT)
        assert (connected, subprotocol) == (True, "token")  # echoed, as the handshake needs
        assert (await ws.receive_json_from(timeout=TIMEOUT))["store"]["store_id"] == "abc111"
        await ws.disconnect()

        bad = WebsocketCommunicator(application, "/ws/stores/abc111", subprotocols=["token", "x"])
        assert (await bad.connect(timeout=TIMEOUT))[0]
        assert await close_code(bad) == 4401

    asyncio.run(scenario())


@pytest.mark.parametrize("query", ["", "?token=wrong", "?token=a.b.c"])
def test_without_valid_credentials_socket_closes_4401(store, query):
    async def scenario():
        ws = await connect(f"/ws/stores/abc111{query}")
        assert await close_code(ws) == 4401

    asyncio.run(scenario())


@pytest.mark.parametrize("store_id", ["nope", "bad%20id"])
def test_unknown_store_closes_4404(token, store_id):
    async def scenario():
        ws = await connect(f"/ws/stores/{store_id}?token={token}")
        assert await close_code(ws) == 4404

    asyncio.run(scenario())
    assert not Store.objects.filter(store_id__in=["nope", "bad id"]).exists()


def test_foreign_origin_is_refused_but_own_origin_allowed(store, token):
    async def scenario():
        evil = WebsocketCommunicator(
            application, f"/ws/stores/abc111?token={token}", [(b"origin", b"http://evil.test")]
        )
        connected, _ = await evil.connect(timeout=TIMEOUT)
        assert not connected
        ws = await connect(f"/ws/stores/abc111?token={token}", [(b"origin", b"http://127.0.0.1")])
        assert (await ws.receive_json_from(timeout=TIMEOUT))["store"]["store_id"] == "abc111"
        await ws.disconnect()

    asyncio.run(scenario())


def test_every_subscriber_gets_exactly_one_message_per_committed_change(store, token, client_for):
    operator = client_for(OperatorFactory())

    def post(path, body=None):
        response = operator.post(path, body or {})
        return response.status_code, response.json()

    async def scenario():
        subscribers = [await connect(f"/ws/stores/abc111?token={token}") for _ in range(3)]
        other_store = StoreFactory.build(store_id="other")
        await sync_to_async(other_store.save)()
        bystander = await connect(f"/ws/stores/other?token={token}")
        for ws in [*subscribers, bystander]:
            await ws.receive_json_from(timeout=TIMEOUT)  # the report on connect

        changes = [
            ("/stores/abc111", {"operation": "supply", "item_id": "pear", "quantity": 2}),
            (
                "/stores/abc111/group_op",
                {
                    "operation": "demand",
                    "items": [
                        {"item_id": "apple", "quantity": 1},
                        {"item_id": "pear", "quantity": 1},
                    ],
                },
            ),
            ("/stores/abc111/clean", None),
        ]
        for path, body in changes:
            status, answer = await sync_to_async(post)(path, body)
            assert status == 200
            for ws in subscribers:
                assert await ws.receive_json_from(timeout=TIMEOUT) == answer
                assert await ws.receive_nothing(timeout=0.2)  # one message per change

        # A refused change is rolled back and announces nothing.
        status, _ = await sync_to_async(post)(
            "/stores/abc111", {"operation": "demand", "item_id": "apple", "quantity": 99}
        )
        assert status == 409
        for ws in subscribers:
            assert await ws.receive_nothing(timeout=0.3)
        assert await bystander.receive_nothing(timeout=0.1)
        for ws in [*subscribers, bystander]:
            await ws.disconnect()

    asyncio.run(scenario())


def test_rolled_back_service_call_sends_nothing(store, token):
    from django.db import transaction

    def change_then_roll_back():
        with transaction.atomic():
            services.apply_operation(store=store, operation="supply", item_id="x", quantity=1)
            transaction.set_rollback(True)

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        await ws.receive_json_from(timeout=TIMEOUT)
        await sync_to_async(change_then_roll_back)()
        assert await ws.receive_nothing(timeout=0.5)
        for text in ['{"action": "report"}', "not json"]:
            await ws.send_to(text_data=text)
            report = await ws.receive_json_from(timeout=TIMEOUT)
            assert report["store"]["report"] == [{"item_id": "apple", "quantity": 5}]
        await ws.disconnect()

    asyncio.run(scenario())


def test_idempotent_write_announces_once_and_its_replay_announces_nothing(store, token, client_for):
    operator = client_for(OperatorFactory())

    def post():
        response = operator.post(
            "/stores/abc111",
            {"operation": "supply", "item_id": "apple", "quantity": 1},
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
        return response.status_code, response.json()

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        await ws.receive_json_from(timeout=TIMEOUT)
        status, answer = await sync_to_async(post)()
        assert status == 200
        assert await ws.receive_json_from(timeout=TIMEOUT) == answer
        status, replayed = await sync_to_async(post)()
        assert (status, replayed) == (200, answer)
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    asyncio.run(scenario())


@pytest.mark.slow
def test_subscriber_idle_longer_than_redis_socket_timeout_still_gets_changes(
    store, token, client_for
):
    # redis-py 8 broke blocking reads of the Channels Redis layer: an idle socket died after
    # 5 s. Wait past that, then check the subscriber is still alive and served.
    operator = client_for(OperatorFactory())

    async def scenario():
        ws = await connect(f"/ws/stores/abc111?token={token}")
        await ws.receive_json_from(timeout=TIMEOUT)
        assert await ws.receive_nothing(timeout=7)
        response = await sync_to_async(operator.post)(
            "/stores/abc111", {"operation": "supply", "item_id": "apple", "quantity": 1}
        )
        assert response.status_code == 200
        assert await ws.receive_json_from(timeout=TIMEOUT) == response.json()
        await ws.disconnect()

    asyncio.run(scenario())
