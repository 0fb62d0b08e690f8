"""One-time sign-in codes sent by SMS or e-mail: issue, check, deliver.

Rules (numbers come from settings): a code lives SIGNIN_CODE_TTL_SECONDS; after
SIGNIN_CODE_MAX_ATTEMPTS wrong tries it is burned; a destination gets a new code at most once
per SIGNIN_CODE_RESEND_SECONDS; a new code replaces the old one; a code works once.

Across codes, in any 24 hours, a destination gets at most SIGNIN_CODES_PER_DAY codes and
SIGNIN_WRONG_CODES_PER_DAY wrong tries; past the latter it is locked (429) for verifying and
for new codes until the oldest counted wrong try is a day old. Without this, burning a code and
asking for a new one every minute tries a 4-digit code thousands of times a day.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.errors import SignInThrottled
from accounts.identity.sms import get_sms_backend
from accounts.models import SignInCode, SignInEvent

Channel = SignInCode.Channel
Kind = SignInEvent.Kind
DAY = timedelta(days=1)

# An SMS code is 4 digits, an e-mail code 6. Neither starts with 0, because
# The phone sign-in types the SMS code as an int and a client may send it as a JSON number.
CODE_LENGTHS: dict[str, int] = {Channel.SMS: 4, Channel.EMAIL: 6}


@dataclass(frozen=True)
class IssuedCode:
    code_id: int
    code: str
    expires_in: int


def generate_code(length: int) -> str:
    return secrets.choice("123456789") + "".join(
        secrets.choice("0123456789") for _digit in range(length - 1)
    )


def code_digest(*, channel: str, destination: str, code: str) -> str:
    """HMAC of the code bound to its destination, so the table never holds a usable code."""
    message = f"{channel}:{destination}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _daily_cap_wait(
    *, channel: str, destination: str, kind: str, limit: int, now: datetime
) -> int | None:
    """Seconds until `destination` has fewer than `limit` events of `kind` in the last 24 hours,
    or None if it has fewer already (a limit below 1 turns the cap off)."""
    if limit < 1:
        return None
    recent = list(
        SignInEvent.objects.filter(
            channel=channel, destination=destination, kind=kind, at__gt=now - DAY
        )
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # One more fits once the limit-th newest event leaves the 24-hour window.
    return max(1, math.ceil((recent[-1] + DAY - now).total_seconds()))


def _check_not_locked(*, channel: str, destination: str, now: datetime) -> None:
    wait = _daily_cap_wait(
        channel=channel,
        destination=destination,
        kind=Kind.WRONG_CODE,
        limit=settings.SIGNIN_WRONG_CODES_PER_DAY,
        now=now,
    )
    if wait is not None:
        raise SignInThrottled(
            retry_after=wait,
            message="Too many wrong codes for this phone number or address today; sign-in "
            "by code is locked for it.",
            code="signin_locked",
        )


def issue_code(*, channel: str, destination: str, now: datetime | None = None) -> IssuedCode:
    """Create a fresh code for `destination`, replacing (and so invalidating) any older one.

    Raises SignInThrottled (429, with the seconds to wait) if the last code for this
    destination was issued less than SIGNIN_CODE_RESEND_SECONDS ago, if it got
    SIGNIN_CODES_PER_DAY codes or SIGNIN_WRONG_CODES_PER_DAY wrong tries in the last 24 hours.
    The caller sends the code after commit.
    """
    now = now or timezone.now()
    code = generate_code(CODE_LENGTHS[channel])
    fields = {
        "code_hash": code_digest(channel=channel, destination=destination, code=code),
        "issued_at": now,
        "expires_at": now + timedelta(seconds=settings.SIGNIN_CODE_TTL_SECONDS),
        "attempts": 0,
        "sent_at": None,
        "used_at": None,
    }
    with transaction.atomic():
        # The row lock serialises concurrent requests for one destination; get_or_create
        # falls back to a (locked) get if another request inserted the row first.
        row, created = SignInCode.objects.select_for_update().get_or_create(
            channel=channel, destination=destination, defaults=fields
        )
        # Checked under the row lock, so parallel requests cannot overshoot the caps. A
        # refusal rolls back the row created just above.
        _check_not_locked(channel=channel, destination=destination, now=now)
        wait = _daily_cap_wait(
            channel=channel,
            destination=destination,
            kind=Kind.CODE_SENT,
            limit=settings.SIGNIN_CODES_PER_DAY,
            now=now,
        )
        if wait is not None:
            raise SignInThrottled(
                retry_after=wait,
                message="Too many codes were sent to this phone number or address today.",
                code="too_many_codes",
            )
        if not created:
            next_allowed = row.issued_at + timedelta(seconds=settings.SIGNIN_CODE_RESEND_SECONDS)
            if now < next_allowed:
                wait = math.ceil((next_allowed - now).total_seconds())
                raise SignInThrottled(
                    retry_after=wait,
                    message="A new code was sent recently; wait before asking for another.",
                    code="code_resend_too_soon",
                )
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(update_fields=list(fields))
        SignInEvent.objects.create(
            channel=channel, destination=destination, kind=Kind.CODE_SENT, at=now
        )
    return IssuedCode(code_id=row.pk, code=code, expires_in=settings.SIGNIN_CODE_TTL_SECONDS)


@dataclass(frozen=True)
class CodeRejection:
    message: str
    code: str


def consume_code(
    *, channel: str, destination: str, code: str, now: datetime | None = None
) -> CodeRejection | None:
    """Use up the destination's code if `code` matches it; else say why it was refused.

    A wrong try is counted in the database, so callers must not roll back on a rejection:
    they return or raise only after their transaction has committed. Returns None on success.
    Raises SignInThrottled (429) while the destination is locked by SIGNIN_WRONG_CODES_PER_DAY,
    even for the right code, before anything is written.
    """
    now = now or timezone.now()
    max_attempts = settings.SIGNIN_CODE_MAX_ATTEMPTS
    with transaction.atomic():
        row = (
            SignInCode.objects.select_for_update()
            .filter(channel=channel, destination=destination)
            .first()
        )
        _check_not_locked(channel=channel, destination=destination, now=now)
        if row is None or row.used_at is not None:
            return CodeRejection(
                _("No code is waiting for this address; request a new one."), "code_not_requested"
            )
        if row.attempts >= max_attempts:
            return CodeRejection(
                _("Too many wrong tries: this code is burned; request a new one."), "code_burned"
            )
        if now >= row.expires_at:
            return CodeRejection(_("This code has expired; request a new one."), "code_expired")
        given = code_digest(channel=channel, destination=destination, code=str(code))
        if not hmac.compare_digest(row.code_hash, given):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            SignInEvent.objects.create(
                channel=channel, destination=destination, kind=Kind.WRONG_CODE, at=now
            )
            left = max_attempts - row.attempts
            if left:
                return CodeRejection(
                    _("Wrong code; %(left)s tries left.") % {"left": left}, "code_invalid"
                )
            return CodeRejection(
                _("Wrong code; no tries left, this code is burned. Request a new one."),
                "code_burned",
            )
        row.used_at = now
        row.save(update_fields=["used_at"])
    return None


def sms_text(code: str) -> str:
    minutes = max(1, settings.SIGNIN_CODE_TTL_SECONDS // 60)
    return f"Your sign-in code: {code}. It is valid for {minutes} min. Do not share it."


def _send(row: SignInCode, code: str) -> None:
    if row.channel == Channel.SMS:
        get_sms_backend().send(phone=row.destination, text=sms_text(code))
    else:
        minutes = max(1, settings.SIGNIN_CODE_TTL_SECONDS // 60)
        send_mail(
            subject="Your confirmation code",
            message=f"Your confirmation code: {code}\nIt is valid for {minutes} min.\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[row.destination],
        )


def deliver_code(*, code_id: int, code: str) -> bool:
    """Send the code if it is still the live one and was not sent yet; True if sent now.

    Safe to run twice (acks_late redelivery): `sent_at` is claimed with a conditional UPDATE
    before sending and released if sending fails, so the task can retry. A code replaced,
    used or expired meanwhile is not sent at all.
    """
    row = SignInCode.objects.filter(pk=code_id).first()
    if row is None:
        return False
    expected = code_digest(channel=row.channel, destination=row.destination, code=code)
    now = timezone.now()
    if not hmac.compare_digest(row.code_hash, expected) or row.used_at or row.expires_at <= now:
        return False
    live = SignInCode.objects.filter(pk=code_id, code_hash=row.code_hash)
    if not live.filter(sent_at=None).update(sent_at=now):
        return False
    try:
        _send(row, code)
    except Exception:
        live.filter(sent_at=now).update(sent_at=None)
        raise
    return True


def purge_stale_codes(*, older_than: timedelta = DAY, now: datetime | None = None) -> int:
    """Delete code rows whose code expired more than `older_than` ago, and sign-in events
    older than a day; returns how many code rows went.

    Nothing depends on them any more: the resend limit and the try counter only matter while
    a code is alive, the daily caps look back 24 hours, so the tables stay as small as the set
    of recent sign-ins.
    """
    now = now or timezone.now()
    deleted, _by_model = SignInCode.objects.filter(expires_at__lt=now - older_than).delete()
    SignInEvent.objects.filter(at__lte=now - DAY).delete()
    return deleted
