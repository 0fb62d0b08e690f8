import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram.error import NetworkError

from stores import bot


class Command(BaseCommand):
    help = "Answer /stock [store_id] to the Telegram chat SPECIAL_USER (long polling)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_TOKEN or not settings.SPECIAL_USER:
            raise CommandError("Set TELEGRAM_BOT_TOKEN and SPECIAL_USER.")
        asyncio.run(self._run())

    async def _run(self) -> None:
        offset = None
        async with bot.make_bot() as telegram_bot:
            self.stdout.write(f"answering /stock to chat {settings.SPECIAL_USER}")
            while True:
                try:
                    offset = await bot.poll_once(telegram_bot, offset=offset)
                except NetworkError as exc:  # includes timeouts; Telegram comes back
                    self.stderr.write(f"network error: {exc}; retrying in 5s")
                    await asyncio.sleep(5)
