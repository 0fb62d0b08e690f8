"""The report bot answering `/stock [store_id]` to SPECIAL_USER (long polling, no webhook).

Only the configured chat gets answers: the stock is not public. Run with
`manage.py run_stock_bot`; the daily report itself does not need this process.
"""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from telegram import Bot
from telegram.request import HTTPXRequest

from stores import selectors, services
from stores.errors import StoreNotFound
from stores.telegram import MESSAGE_LIMIT, format_report

logger = logging.getLogger(__name__)

HELP = "/stock - the stock of every store\n/stock <store_id> - the stock of one store"


def stock_reply(text: str) -> str:
    """The answer to one message text."""
    command, _, argument = text.strip().partition(" ")
    if command.split("@")[0] != "/stock":
        return HELP
    store_id = argument.strip()
    if store_id:
        try:
            reports = [selectors.store_report(store=services.resolve_store(store_id=store_id))]
        except StoreNotFound:
            return f"Unknown store: {store_id}"
    else:
        reports = selectors.all_store_reports()
    reply = format_report(reports, generated_at=timezone.now())
    if len(reply) > MESSAGE_LIMIT:
        reply = reply[: MESSAGE_LIMIT - 40].rsplit("\n", 1)[0] + "\n... (see the xlsx report)"
    return reply


def make_bot() -> Bot:
    return Bot(
        token=settings.TELEGRAM_BOT_TOKEN,
        base_url=settings.TELEGRAM_API_URL,
        request=HTTPXRequest(connect_timeout=5, read_timeout=15),
        get_updates_request=HTTPXRequest(connect_timeout=5, read_timeout=60),
    )


async def poll_once(bot: Bot, *, offset: int | None, timeout: int = 30) -> int | None:
    """Fetch one batch of updates, answer them, and return the next offset."""
    updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=["message"])
    for update in updates:
        offset = update.update_id + 1
        message = update.message
        if message is None or not message.text:
            continue
        if str(message.chat.id) != str(settings.SPECIAL_USER):
            logger.info("ignored a message from chat %s", message.chat.id)
            continue
        reply = await sync_to_async(stock_reply)(message.text)
        await bot.send_message(chat_id=message.chat.id, text=reply)
    return offset
