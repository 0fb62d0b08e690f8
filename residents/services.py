"""Writes of residents: residency, flat codes, readings by residents, paying charges.

Readings go through housing.services.meters (the operators' rules: rising values, one per
meter and month); on top of them residents are held to the reading window and to months whose
rent has not been started. Payments lock the charge row first and then, inside the ledger's
posting, the accounts in id order: every rent payment takes its locks in that one order.
"""

import calendar
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.balances.errors import NoAccountYet
from accounts.balances.services import check_amount, pay_rent
from accounts.models import Account
from billing.models import Charge, RentRun
from housing.models import Flat, House, MeterReading, WaterMeter
from housing.services import meters as meter_services
from residents.errors import NoSuchFlatCode, NotYours, OutsideWindow, ResidentConflict
from residents.models import (
    ChargePayment,
    CollectionAccount,
    FlatCode,
    ReadingSubmission,
    Residency,
)

logger = logging.getLogger(__name__)


# --- The reading window ----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    opens: date
    closes: date

    def as_dict(self) -> dict:
        return {"opens": self.opens.isoformat(), "closes": self.closes.isoformat()}


def window_days() -> tuple[int, int]:
    """READINGS_WINDOW_DAYS as (first, last) day of the month, e.g. "15-25"."""
    raw = str(settings.READINGS_WINDOW_DAYS)
    try:
        first, last = (int(part) for part in raw.split("-", 1))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"READINGS_WINDOW_DAYS must look like 15-25, not {raw!r}"
        ) from exc
    if not 1 <= first <= last <= 31:
        raise ImproperlyConfigured(f"READINGS_WINDOW_DAYS {raw!r} is not within 1-31")
    return first, last


def reading_window(today: date | None = None) -> Window:
    """This month's window (its last day clipped to the month's length)."""
    today = today or timezone.localdate()
    first, last = window_days()
    days = calendar.monthrange(today.year, today.month)[1]
    return Window(today.replace(day=min(first, days)), today.replace(day=min(last, days)))


def _check_window(today: date) -> None:
    window = reading_window(today)
    if not window.opens <= today <= window.closes:
        raise OutsideWindow(
            _("Readings are accepted from %(opens)s to %(closes)s.") % window.as_dict(),
            extra={"window": window.as_dict()},
        )


def _check_rent_not_started(house_id: int, year: int, month: int) -> None:
    """Refuse once a rent run of the month has started (a failed one does not count). The
    house's row lock orders this check with start_rent_run, which takes the same lock."""
    House.objects.select_for_update().filter(pk=house_id).values_list("pk").get()
    started = (
        RentRun.objects.filter(house_id=house_id, year=year, month=month)
        .exclude(status=RentRun.Status.FAILED)
        .exists()
    )
    if started:
        raise ResidentConflict(
            _("The rent of %(period)s is already being calculated; readings are closed.")
            % {"period": f"{year}-{month:02d}"},
            code="rent_started",
        )


# --- Residency and flat codes ----------------------------------------------------------------


def link_resident(*, flat: Flat, user, by=None) -> tuple[Residency, bool]:
    """Make `user` a resident of `flat`; linking twice changes nothing."""
    try:
        with transaction.atomic():
            return Residency.objects.get_or_create(
                flat=flat, user=user, defaults={"created_by": by}
            )
    except IntegrityError:  # a parallel link won
        return Residency.objects.get(flat=flat, user=user), False


def unlink_resident(*, residency: Residency) -> None:
    residency.delete()


def create_flat_code(*, flat: Flat, by=None) -> FlatCode:
    expires = timezone.now() + timedelta(hours=settings.FLAT_CODE_TTL_HOURS)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return FlatCode.objects.create(flat=flat, expires_at=expires, created_by=by)
        except IntegrityError:  # the random code was taken: draw another
            continue
    raise ResidentConflict(_("Could not draw a free code; try again."), code="code_exhausted")


@transaction.atomic
def redeem_flat_code(*, user, code: str) -> Residency:
    """Become a resident of the code's flat. A code works once and until it expires."""
    code = (code or "").strip().upper().replace("-", "").replace(" ", "")
    flat_code = FlatCode.objects.select_for_update().filter(code=code).first()
    if flat_code is None:
        raise NoSuchFlatCode()
    if flat_code.used_at is not None:
        raise ResidentConflict(_("This flat code was already used."), code="code_used")
    now = timezone.now()
    if flat_code.expires_at <= now:
        raise ResidentConflict(_("This flat code has expired."), code="code_expired")
    flat_code.used_by, flat_code.used_at = user, now
    flat_code.save(update_fields=["used_by", "used_at"])
    residency, _created = link_resident(flat=flat_code.flat, user=user, by=flat_code.created_by)
    return residency


# --- Readings ---------------------------------------------------------------------------------


def _my_meter(user, meter_id) -> WaterMeter:
    meter = (
        WaterMeter.objects.filter(pk=meter_id, flat__residencies__user=user)
        .select_related("flat")
        .first()
    )
    if meter is None:
        raise NotYours(_("No such meter in your flats."))
    return meter


def _mark_submitted(reading: MeterReading, user) -> None:
    ReadingSubmission.objects.update_or_create(reading=reading, defaults={"user": user})


@transaction.atomic
def submit_reading(
    *, user, meter_id: int, value: Decimal, today: date | None = None
) -> MeterReading:
    """This month's reading of a meter in one of the user's flats (404 otherwise), inside the
    window (409 outside it) and before the month's rent has started (409)."""
    today = today or timezone.localdate()
    meter = _my_meter(user, meter_id)
    _check_window(today)
    _check_rent_not_started(meter.flat.house_id, today.year, today.month)
    [reading] = meter_services.record_readings(
        entries=[(meter, value)], year=today.year, month=today.month
    )
    _mark_submitted(reading, user)
    return reading


@transaction.atomic
def correct_reading(
    *, user, reading_id: int, value: Decimal, today: date | None = None
) -> MeterReading:
    """Correct this month's reading of one of the user's meters, under the same rules."""
    today = today or timezone.localdate()
    reading = (
        MeterReading.objects.filter(pk=reading_id, meter__flat__residencies__user=user)
        .select_related("meter__flat")
        .first()
    )
    if reading is None:
        raise NotYours(_("No such reading in your flats."))
    if (reading.year, reading.month) != (today.year, today.month):
        raise ResidentConflict(
            _("Only this month's readings can be changed."), code="reading_closed"
        )
    _check_window(today)
    _check_rent_not_started(reading.meter.flat.house_id, reading.year, reading.month)
    reading = meter_services.update_reading(reading=reading, value=value)
    _mark_submitted(reading, user)
    return reading


# --- Paying charges ---------------------------------------------------------------------------


def collection_account_id(house_id: int) -> int | None:
    """The house's own collection account, else the global one, else None."""
    own = CollectionAccount.objects.filter(house_id=house_id).values_list("account_id", flat=True)
    return own.first() or settings.RENT_COLLECTION_ACCOUNT_ID


def set_collection_account(*, house: House, account: Account | None) -> CollectionAccount | None:
    """Designate (or, with None, drop) a house's collection account."""
    if account is None:
        CollectionAccount.objects.filter(house=house).delete()
        return None
    record, _created = CollectionAccount.objects.update_or_create(
        house=house, defaults={"account": account}
    )
    return record


def pay_charge(*, user, charge_id: int, amount: Decimal | None = None) -> ChargePayment:
    """Pay (part of) a charge of one of the user's flats from their balance.

    One transaction: lock the charge row, check what is still due, post one rent movement to
    the collection account (which locks the accounts in id order), add to the charge's paid
    amount. A second payment of the same charge waits on the row lock and then sees the first
    one's paid amount, so a charge is never paid twice. 402 when the balance is short."""
    with transaction.atomic():
        owned = Charge.objects.filter(pk=charge_id, flat__residencies__user=user)
        if not owned.exists():
            raise NotYours(_("No such charge in your flats."))
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        due = charge.total - charge.paid_amount
        if due <= 0:
            raise ResidentConflict(_("This charge is paid."), code="charge_paid")
        amount = due if amount is None else check_amount(amount)
        if amount > due:
            raise ResidentConflict(
                _("The amount due is %(due)s; %(amount)s is more.")
                % {"due": due, "amount": amount},
                code="overpayment",
            )
        account_id = Account.objects.filter(user=user).values_list("pk", flat=True).first()
        if account_id is None:
            raise NoAccountYet()
        target = collection_account_id(charge.house_id)
        if target is None:
            raise ResidentConflict(
                _("No collection account is set for this house; ask the operator."),
                code="no_collection_account",
            )
        movement = pay_rent(
            user=user,
            from_account_id=account_id,
            to_account_id=target,
            amount=amount,
            comment=f"rent: flat {charge.flat_id}, {charge.year}-{charge.month:02d}",
        )
        charge.paid_amount += amount
        charge.save(update_fields=["paid_amount"])
        payment = ChargePayment.objects.create(
            charge=charge,
            flat_id=charge.flat_id,
            year=charge.year,
            month=charge.month,
            user=user,
            movement_id=movement.pk,
            amount=amount,
        )
    logger.info("Charge %s paid %s by user %s", charge.pk, amount, user.pk)
    payment.charge = charge
    return payment
