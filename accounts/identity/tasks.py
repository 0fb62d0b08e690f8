"""Sign-in codes leave the request path: the view commits the code, then enqueues these."""

import smtplib

from celery import shared_task

from accounts.identity import codes
from accounts.identity.sms import SmsDeliveryError


@shared_task(
    name="accounts.send_signin_code",
    autoretry_for=(SmsDeliveryError, smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def send_signin_code(code_id: int, code: str) -> bool:
    """Deliver a phone (SMS) or e-mail sign-in code; a no-op if it was replaced or sent."""
    return codes.deliver_code(code_id=code_id, code=code)


@shared_task(name="accounts.purge_signin_codes")
def purge_signin_codes() -> int:
    """Daily: drop sign-in code rows that expired more than a day ago."""
    return codes.purge_stale_codes()
