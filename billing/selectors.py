"""Reads of rent runs and charges; each costs a fixed number of queries."""

import uuid
from decimal import Decimal
from typing import TypedDict, cast

from django.db.models import Count, Q, QuerySet, Sum

from billing.errors import NoSuchRun
from billing.models import Charge, ChargeFields, LineStatus, RentRun, StagedLine
from housing.models import House


def run_list() -> QuerySet[RentRun]:
    return RentRun.objects.select_related("house__street").order_by("-created_at")


def get_run(*, run_id: uuid.UUID | str) -> RentRun:
    """A run by its id (the API's task_id); anything that is not one is a 404."""
    try:
        run_uuid = uuid.UUID(str(run_id))
    except ValueError as exc:
        raise NoSuchRun() from exc
    run = run_list().filter(pk=run_uuid).first()
    if run is None:
        raise NoSuchRun()
    return run


def run_lines(*, run: RentRun) -> QuerySet[ChargeFields]:
    """The lines a run has written so far, by flat number: published charges, or a
    recalculation's staged lines until it publishes them."""
    lines: QuerySet[ChargeFields]
    if run.recalculate and run.status != RentRun.Status.COMPLETED:
        lines = StagedLine.objects.filter(run=run)
    else:
        lines = Charge.objects.filter(run=run)
    return lines.select_related("flat").order_by("flat__number")


def charge_list() -> QuerySet[Charge]:
    return Charge.objects.select_related("flat", "house__street").order_by(
        "-year", "-month", "house_id", "flat__number"
    )


def house_month_charges(*, house: House, year: int, month: int) -> QuerySet[Charge]:
    return (
        Charge.objects.filter(house=house, year=year, month=month)
        .select_related("flat")
        .order_by("flat__number")
    )


class HouseMonthTotals(TypedDict):
    flats: int
    water_cost: Decimal | None  # the sums are None for a month without charges
    upkeep_cost: Decimal | None
    total: Decimal | None
    needs_reading: int


def house_month_totals(*, house: House, year: int, month: int) -> HouseMonthTotals:
    """Sums of a house's charges for a month."""
    totals = Charge.objects.filter(house=house, year=year, month=month).aggregate(
        flats=Count("id"),
        water_cost=Sum("water_cost"),
        upkeep_cost=Sum("upkeep_cost"),
        total=Sum("total"),
        needs_reading=Count("id", filter=Q(status=LineStatus.NEEDS_READING)),
    )
    # aggregate() is typed as dict[str, Any]; the keys and types are the ones asked for above.
    return cast(HouseMonthTotals, totals)


def active_run_counts() -> dict[str, int]:
    """Rent runs not finished yet, by status (PENDING, IN_PROGRESS): one query, for /metrics."""
    counts = {status.value: 0 for status in RentRun.ACTIVE}
    rows = RentRun.objects.filter(status__in=RentRun.ACTIVE).values("status").order_by()
    counts.update({row["status"]: row["n"] for row in rows.annotate(n=Count("id"))})
    return counts
