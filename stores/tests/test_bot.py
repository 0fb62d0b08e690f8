import asyncio

import pytest

from stores import bot
from stores.tests.factories import StockItemFactory, StoreFactory
from stores.tests.fake_telegram import FakeTelegram

TOKEN = "123456:BOT-token"
CHAT = 424242


def message_update(update_id: int, chat_id: int, text: str) -> dict:
    chat = {"id": chat_id, "type": "private"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 0, "chat": chat, "text": text},
    }


@pytest.fixture
def stock(db):
    store = StoreFactory(store_id="abc111")
    StockItemFactory(store=store, item_id="apple", quantity=10)
    StoreFactory(store_id="xyz000")


@pytest.mark.django_db(transaction=True)
def test_bot_answers_stock_command_to_special_user_only(settings, stock):
    with FakeTelegram(TOKEN) as fake:
        settings.TELEGRAM_BOT_TOKEN = TOKEN
        settings.TELEGRAM_API_URL = fake.base_url
        settings.SPECIAL_USER = str(CHAT)
        fake.updates = [
            message_update(10, CHAT, "/stock abc111"),
            message_update(11, 999, "/stock abc111"),  # a stranger: ignored
            message_update(12, CHAT, "/stock@stock_test_bot nope"),
            message_update(13, CHAT, "/stock"),
        ]

        async def scenario():
            async with bot.make_bot() as telegram_bot:
                return await bot.poll_once(telegram_bot, offset=None, timeout=0)

        assert asyncio.run(scenario()) == 14
    replies = [(r["fields"]["chat_id"], r["fields"]["text"]) for r in fake.sends()]
    assert [chat for chat, _ in replies] == [str(CHAT)] * 3
    assert "Store abc111 (1 item, 10 units):\n  apple: 10" in replies[0][1]
    assert "xyz000" not in replies[0][1]
    assert replies[1][1] == "Unknown store: nope"
    assert "Store xyz000: empty" in replies[2][1]


def test_other_text_gets_help():
    assert bot.stock_reply("hello") == bot.HELP
