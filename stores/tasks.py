from celery import shared_task

from stores import telegram


@shared_task(
    name="stores.send_stock_report",
    bind=True,
    max_retries=6,
    default_retry_delay=60,
)
def send_stock_report(self, force: bool = False) -> str:
    """Daily (beat, REPORT_TIME): the stock of every store to the Telegram chat SPECIAL_USER."""
    try:
        return telegram.send_stock_report(force=force)
    except telegram.TelegramUnavailable as exc:
        countdown = exc.retry_in or min(60 * 2**self.request.retries, 1800)
        raise self.retry(exc=exc, countdown=countdown) from exc
