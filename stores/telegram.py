"""The daily stock report to a Telegram chat (python-telegram-bot, Bot API base URL configurable).

The report goes to SPECIAL_USER as a text message, or as an .xlsx document when the text
would not fit in one Telegram message. One report per local day: a re-run of the task (a
retry, an `acks_late` redelivery) does not send it again unless forced.
"""

import asyncio
import logging
import warnings
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from telegram import Bot, InputFile
from telegram.error import NetworkError, RetryAfter
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from stores import selectors, xlsx
from stores.models import ReportDelivery

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # characters in one Telegram message
MAX_ATTEMPTS = 4
MAX_INLINE_WAIT = 60.0  # longer 429 waits are left to the Celery retry


class TelegramUnavailable(Exception):
    """Telegram could not be reached or kept refusing; the task retries later."""

    def __init__(self, message: str, retry_in: float | None = None) -> None:
        super().__init__(message)
        self.retry_in = retry_in


def format_report(reports: list[dict], *, generated_at: datetime) -> str:
    """A plain-text report: one block per store, one line per item in stock."""
    local = timezone.localtime(generated_at)
    lines = [f"Stock report, {local:%Y-%m-%d %H:%M} ({local.tzname()})"]
    if not reports:
        lines.append("No stores.")
    for report in reports:
        store = report["store"]
        lines.append("")
        if not store["report"]:
            lines.append(f"Store {store['store_id']}: empty")
            continue
        total = sum(line["quantity"] for line in store["report"])
        count = len(store["report"])
        items = f"{count} item" + ("s" if count != 1 else "")
        lines.append(f"Store {store['store_id']} ({items}, {total} units):")
        lines += [f"  {line['item_id']}: {line['quantity']}" for line in store["report"]]
    return "\n".join(lines)


def _retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that the int form is deprecated; both forms are handled here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _deliver(*, chat_id: str, text: str, document: bytes | None, filename: str) -> None:
    bot = Bot(
        token=settings.TELEGRAM_BOT_TOKEN,
        base_url=settings.TELEGRAM_API_URL,
        request=HTTPXRequest(connect_timeout=5, read_timeout=15, media_write_timeout=30),
    )
    async with bot:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if document is None:
                    await bot.send_message(chat_id=chat_id, text=text)
                else:
                    await bot.send_document(
                        chat_id=chat_id,
                        document=InputFile(document, filename=filename),
                        caption=text,
                    )
                return
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc)
                if wait > MAX_INLINE_WAIT or attempt == MAX_ATTEMPTS:
                    raise TelegramUnavailable(str(exc), retry_in=wait) from exc
                logger.warning("Telegram asks to wait %.0fs (attempt %d)", wait, attempt)
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                wait = 2.0 ** (attempt - 1)
                if attempt == MAX_ATTEMPTS:
                    raise TelegramUnavailable(str(exc)) from exc
                logger.warning("Telegram network error %s, retrying in %.0fs", exc, wait)
            await asyncio.sleep(wait)


def send_stock_report(*, force: bool = False, now: datetime | None = None) -> str:
    """Send the stock of every store to SPECIAL_USER; returns what happened.

    "disabled" when TELEGRAM_BOT_TOKEN or SPECIAL_USER is unset, "already_sent" when today's
    report went out before (unless `force`), else "message" or "document". Raises
    TelegramUnavailable when Telegram stays unreachable; nothing is recorded then.
    """
    if not settings.TELEGRAM_BOT_TOKEN or not settings.SPECIAL_USER:
        missing = "TELEGRAM_BOT_TOKEN" if not settings.TELEGRAM_BOT_TOKEN else "SPECIAL_USER"
        logger.info("Telegram stock report disabled: %s is not set", missing)
        return "disabled"
    now = now or timezone.now()
    chat_id = settings.SPECIAL_USER
    reports = selectors.all_store_reports()
    text = format_report(reports, generated_at=now)
    document = None
    if len(text) > MESSAGE_LIMIT:
        document = xlsx.build_workbook(reports, generated_at=now)
        text = (
            f"Stock report, {timezone.localtime(now):%Y-%m-%d %H:%M}: {len(reports)} stores, "
            "too long for a message, see the attached file."
        )
    outcome = "document" if document is not None else "message"
    day = timezone.localdate(now)
    try:
        # The day's row is claimed before sending and committed after: a parallel duplicate
        # waits on it and then skips; a failed send rolls the claim back.
        with transaction.atomic():
            if force:
                ReportDelivery.objects.filter(day=day).delete()
            ReportDelivery.objects.create(
                day=day, chat_id=chat_id, as_document=document is not None
            )
            asyncio.run(
                _deliver(
                    chat_id=chat_id,
                    text=text,
                    document=document,
                    filename=f"stock_report_{day:%Y-%m-%d}.xlsx",
                )
            )
    except IntegrityError:
        logger.info("Telegram stock report of %s was already sent", day)
        return "already_sent"
    logger.info("Telegram stock report of %s sent as a %s", day, outcome)
    return outcome
