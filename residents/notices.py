"""Notices to residents: queued in committed batches, then sent through SMS or e-mail.

Queueing is idempotent: a notice's unique key (user, flat, month, kind, version) makes a
repeated or resumed queueing insert nothing twice (ON CONFLICT DO NOTHING), and a resumed one
starts after the last flat already queued. Rent notices carry the run's id as their version, so
a recalculation queues a correction, and only to residents whose last notice named another
total. Sending takes pending notices in id order with SKIP LOCKED, so several workers share the
queue and a killed one leaves its batch pending for the next (at least once: a notice sent just
before a crash may be sent again).
"""

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.sms import get_sms_backend
from billing.models import Charge, RentRun
from housing.models import MeterReading, WaterMeter
from residents import sql
from residents.models import Notification, Residency
from residents.services import reading_window

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
Kind = Notification.Kind


def due_date(year: int, month: int) -> date:
    """RENT_DUE_DAY of the month after the charged one."""
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(settings.RENT_DUE_DAY, 28))


def _contact(user_row: Mapping[str, Any]) -> tuple[str, str] | None:
    if user_row["user__phone"]:
        return Notification.Channel.SMS, user_row["user__phone"]
    if user_row["user__email"]:
        return Notification.Channel.EMAIL, user_row["user__email"]
    return None


def queue_rent_notices(*, run_id, batch_size: int | None = None) -> int:
    """Queue one notice per resident of each flat the completed run charged; how many new.

    Each batch of flats is one INSERT ... SELECT (charges x residents x users, the text put
    together in SQL from the translated template) with ON CONFLICT DO NOTHING: no rows travel
    through Python, and a repeated batch inserts nothing."""
    batch_size = batch_size or settings.NOTIFY_BATCH_SIZE
    run = RentRun.objects.select_related("house__street").filter(pk=run_id).first()
    if run is None or run.status != RentRun.Status.COMPLETED:
        return 0
    kind = Kind.CORRECTION if run.recalculate else Kind.RENT
    version = str(run.pk)
    template = (
        _("Corrected rent for flat %(flat)s, %(address)s, %(period)s: %(total)s RUB, due %(due)s.")
        if kind == Kind.CORRECTION
        else _("Rent for flat %(flat)s, %(address)s, %(period)s: %(total)s RUB, due %(due)s.")
    )
    text_sql, text_params = sql.notice_text_sql(
        template,
        address=f"{run.house.street.name} {run.house.number}",
        period=f"{run.year}-{run.month:02d}",
        due=due_date(run.year, run.month).isoformat(),
    )
    insert = sql.insert_notices_statement(text_sql, correction=kind == Kind.CORRECTION)
    key = {"year": run.year, "month": run.month, "kind": kind, "version": version}
    # Resume after the last flat a previous (killed) execution queued.
    cursor = Notification.objects.filter(**key).aggregate(last=Max("flat_id"))["last"] or 0
    queued_before = _count(**key)
    charges = Charge.objects.filter(house_id=run.house_id, year=run.year, month=run.month)
    while True:
        with transaction.atomic():
            last = (
                charges.filter(flat_id__gt=cursor)
                .order_by("flat_id")
                .values_list("flat_id", flat=True)[batch_size - 1 : batch_size]
                .first()
            )
            if last is None:  # the last, shorter batch
                last = charges.filter(flat_id__gt=cursor).aggregate(m=Max("flat_id"))["m"]
            if last is None:
                break
            sql.insert_notices(
                insert,
                kind=kind,
                version=version,
                text_params=text_params,
                house_id=run.house_id,
                year=run.year,
                month=run.month,
                after_flat_id=cursor,
                last_flat_id=last,
            )
            cursor = last
    queued = _count(**key) - queued_before
    logger.info("Queued %d %s notices for rent run %s", queued, kind, run.pk)
    return queued


def _count(**key) -> int:
    return Notification.objects.filter(**key).count()


def queue_reminders(*, today: date | None = None) -> int:
    """Within READINGS_REMINDER_DAYS_BEFORE days of the window's close: one reminder a month to
    each resident of a flat with a meter that has no reading for this month."""
    today = today or timezone.localdate()
    window = reading_window(today)
    if not 0 <= (window.closes - today).days <= settings.READINGS_REMINDER_DAYS_BEFORE:
        return 0
    year, month = today.year, today.month
    missing = WaterMeter.objects.filter(
        flat_id=OuterRef("flat_id"), removed_on__isnull=True
    ).exclude(Exists(MeterReading.objects.filter(meter_id=OuterRef("pk"), year=year, month=month)))
    rows = (
        Residency.objects.filter(Exists(missing))
        .filter(Q(user__phone__isnull=False) & ~Q(user__phone="") | ~Q(user__email=""))
        .values("flat_id", "flat__number", "user_id", "user__phone", "user__email")
        .order_by("flat_id", "user_id")
    )
    closes = window.closes.isoformat()
    notices = []
    for row in rows.iterator(chunk_size=settings.NOTIFY_BATCH_SIZE):
        contact = _contact(row)
        if contact is None:  # the query keeps only residents with a phone or an e-mail
            continue
        channel, address = contact
        text = _("Please submit the water meter readings of flat %(flat)s by %(closes)s.") % {
            "flat": row["flat__number"],
            "closes": closes,
        }
        notices.append(
            Notification(
                user_id=row["user_id"],
                flat_id=row["flat_id"],
                year=year,
                month=month,
                kind=Kind.REMINDER,
                channel=channel,
                address=address,
                text=text,
            )
        )
    before = _count(year=year, month=month, kind=Kind.REMINDER)
    Notification.objects.bulk_create(
        notices, ignore_conflicts=True, batch_size=settings.NOTIFY_BATCH_SIZE
    )
    return _count(year=year, month=month, kind=Kind.REMINDER) - before


def _deliver(notice: Notification, sms) -> None:
    if notice.channel == Notification.Channel.SMS:
        sms.send(phone=notice.address, text=notice.text)
    else:
        send_mail(_("Your flat"), notice.text, None, [notice.address])


def send_pending(*, batch_size: int | None = None) -> int:
    """Send pending notices in committed batches; how many were sent."""
    batch_size = batch_size or settings.NOTIFY_BATCH_SIZE
    sms = get_sms_backend()
    sent = 0
    after = 0  # within one call, a notice that failed is not retried straight away
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(status=Notification.Status.PENDING, id__gt=after)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return sent
            after = batch[-1].pk
            delivered, failed = [], []
            for notice in batch:
                try:
                    _deliver(notice, sms)
                except Exception as exc:  # one bad address must not stop the batch
                    logger.warning("Notice %s not sent: %s", notice.pk, exc)
                    notice.attempts += 1
                    notice.error = f"{type(exc).__name__}: {exc}"[:500]
                    if notice.attempts >= MAX_SEND_ATTEMPTS:
                        notice.status = Notification.Status.FAILED
                    failed.append(notice)
                    continue
                delivered.append(notice.pk)
            # One UPDATE for the delivered ones; the (few) failed ones row by row.
            Notification.objects.filter(pk__in=delivered).update(
                status=Notification.Status.SENT, sent_at=timezone.now()
            )
            if failed:
                Notification.objects.bulk_update(failed, ["status", "attempts", "error"])
            sent += len(delivered)
