"""Reads for residents (only their flats) and for operators (readings and payments per house)."""

from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from billing.models import Charge
from core.money import money_field
from housing.models import Flat, House, MeterReading, WaterMeter
from residents.errors import NotYours
from residents.models import FlatCode, Residency

ZERO = Decimal("0.00")
MONEY = money_field()


def has_residents(house_id: int) -> bool:
    """Whether anyone has registered in a flat of the house."""
    return Residency.objects.filter(flat__house_id=house_id).exists()


def my_flats(*, user: User) -> QuerySet[Flat]:
    """The user's flats with their meters and each meter's readings, newest first."""
    readings = MeterReading.objects.select_related("submission").order_by("-year", "-month")
    meters = WaterMeter.objects.order_by("pk").prefetch_related(
        Prefetch("readings", queryset=readings)
    )
    return (
        Flat.objects.filter(residencies__user=user)
        .select_related("house__street")
        .prefetch_related(Prefetch("meters", queryset=meters))
        .order_by("pk")
    )


def my_flat(*, user: User, flat_id: int) -> Flat:
    flat = my_flats(user=user).filter(pk=flat_id).first()
    if flat is None:
        raise NotYours("No such flat of yours.")
    return flat


def my_readings(*, user: User) -> QuerySet[MeterReading]:
    return (
        MeterReading.objects.filter(meter__flat__residencies__user=user)
        .select_related("meter__flat", "submission")
        .order_by("-year", "-month", "meter_id")
    )


def with_payment_state(charges: QuerySet[Charge]) -> QuerySet[Charge]:
    """Annotate `due` (what is still to pay, never negative) and `payment_state`."""
    return charges.annotate(
        due=Greatest(F("total") - F("paid_amount"), Value(ZERO), output_field=MONEY),
        payment_state=Case(
            When(paid_amount__gte=F("total"), then=Value("paid")),
            When(paid_amount__gt=0, then=Value("partly_paid")),
            default=Value("unpaid"),
            output_field=CharField(),
        ),
    )


def my_charges(
    *, user: User, year: int | None = None, month: int | None = None, flat: int | None = None
) -> QuerySet[Charge]:
    charges = Charge.objects.filter(flat__residencies__user=user)
    if year:
        charges = charges.filter(year=year)
    if month:
        charges = charges.filter(month=month)
    if flat:
        charges = charges.filter(flat_id=flat)
    return with_payment_state(charges.select_related("flat", "house__street")).order_by(
        "-year", "-month", "flat_id"
    )


def my_charge(*, user: User, charge_id: int) -> Charge:
    charge = my_charges(user=user).filter(pk=charge_id).first()
    if charge is None:
        raise NotYours("No such charge of yours.")
    return charge


def residencies() -> QuerySet[Residency]:
    return Residency.objects.select_related("user", "flat__house__street").order_by("-pk")


def flat_codes() -> QuerySet[FlatCode]:
    return FlatCode.objects.select_related("flat__house__street").order_by("-created_at")


def house_readings(*, house: House, year: int, month: int) -> dict:
    """A month's readings of a house with who submitted each, and the flats with none."""
    readings = (
        MeterReading.objects.filter(meter__flat__house=house, year=year, month=month)
        .select_related("meter__flat", "submission__user")
        .order_by("meter__flat__number", "meter_id")
    )
    has_reading = MeterReading.objects.filter(meter__flat_id=OuterRef("pk"), year=year, month=month)
    missing = (
        Flat.objects.filter(house=house)
        .exclude(Exists(has_reading))
        .order_by("number")
        .values_list("number", flat=True)
    )
    return {"readings": list(readings), "flats_without_readings": list(missing)}


def house_payments(*, house: House, year: int, month: int) -> dict:
    """Per house and month: how many charges are paid, partly paid, unpaid, the sums, the debt
    and the debtors (flats with something due, with their residents)."""
    charges = with_payment_state(Charge.objects.filter(house=house, year=year, month=month))
    totals = charges.aggregate(
        flats=Count("id"),
        paid=Count("id", filter=Q(paid_amount__gte=F("total"))),
        partly_paid=Count("id", filter=Q(paid_amount__gt=0, paid_amount__lt=F("total"))),
        unpaid=Count("id", filter=Q(paid_amount=0, total__gt=0)),
        total=Coalesce(Sum("total"), Value(ZERO), output_field=MONEY),
        paid_amount=Coalesce(Sum("paid_amount"), Value(ZERO), output_field=MONEY),
        debt=Coalesce(Sum("due"), Value(ZERO), output_field=MONEY),
    )
    debtors = list(
        charges.filter(paid_amount__lt=F("total"))
        .select_related("flat")
        .prefetch_related(
            Prefetch("flat__residencies", queryset=Residency.objects.select_related("user"))
        )
        .order_by("flat__number")
    )
    return {"house": house.pk, "year": year, "month": month, **totals, "debtors": debtors}
