"""Residents' test data: a house with a flat, a meter and a resident, a paid-up account."""

from decimal import Decimal

from django.utils import timezone

from accounts.balances import services as balances
from accounts.models import Account, User
from accounts.tests.factories import UserFactory
from billing import runs as billing_runs
from billing import services as billing
from billing.models import Charge, RentRun
from housing.models import MeterReading, WaterMeter
from housing.tests.factories import global_tariffs, house_with_flats
from residents.models import CollectionAccount, Residency

PAST = (2024, 1)


def window_with_today() -> str:
    return "1-31"


def window_without_today() -> str:
    day = timezone.localdate().day
    return f"1-{day - 1}" if day > 1 else "2-31"


def funded_account(user: User, amount: str) -> Account:
    account, _created = balances.open_account(user=user)
    if Decimal(amount) > 0:
        balances.deposit(user=user, account_id=account.pk, amount=Decimal(amount))
    account.refresh_from_db()
    return account


def collector(house) -> Account:
    """The house's collection account, held by a staff user."""
    user = UserFactory.create(username=f"collector{house.pk}", is_staff=True)
    account = funded_account(user, "0")
    CollectionAccount.objects.create(house=house, account=account)
    return account


def house_with_residents(*, flats: int = 2, months=(PAST,)):
    """A house with `flats` flats (one meter each, readings for `months`) and one resident per
    flat; returns (house, [residents])."""
    house = house_with_flats(flats=flats, months=list(months))
    users = []
    for flat in house.flats.order_by("number"):
        user = UserFactory.create(username=f"res-{house.pk}-{flat.number}", phone=None)
        Residency.objects.create(user=user, flat=flat)
        users.append(user)
    return house, users


def run_rent(house, year: int, month: int, *, recalculate: bool = False) -> RentRun:
    """Start and execute a run in this process (on_commit hooks do not fire in a test
    transaction)."""
    if not house.tariffs.exists() and not _has_global_tariffs():
        global_tariffs()
    run, _created = billing.start_rent_run(
        house=house, year=year, month=month, recalculate=recalculate
    )
    billing_runs.execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RentRun.Status.COMPLETED, run.error
    return run


def _has_global_tariffs() -> bool:
    from housing.models import Tariff

    return Tariff.objects.filter(house__isnull=True).exists()


def charge_of(user) -> Charge | None:
    return Charge.objects.filter(flat__residencies__user=user).order_by("-year", "-month").first()


def meter_of(user) -> WaterMeter | None:
    return WaterMeter.objects.filter(flat__residencies__user=user).first()


def reading(meter, year, month, value) -> MeterReading:
    return MeterReading.objects.create(meter=meter, year=year, month=month, value=Decimal(value))
