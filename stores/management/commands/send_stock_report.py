from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stores import telegram


class Command(BaseCommand):
    help = "Send the stock report of every store to the Telegram chat SPECIAL_USER now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Send even if today's report was already sent."
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        outcome = telegram.send_stock_report(force=force)
        self.stdout.write(f"stock report: {outcome}")
