"""The rent rules for one flat and month, as a pure function (no database).

- consumption = sum over the meters installed during the month of (this month's reading -
  the previous month's reading). A meter without any earlier reading (new, or a replacement)
  counts from its `initial_value`. A meter missing this month's reading, or missing the
  previous month's while it has older ones, or reading less than before, makes the line
  `needs_reading`: no water is charged. A flat without meters is `no_meter`.
- water = round(water tariff x consumption), upkeep = round(upkeep tariff x area), both
  half-up to kopecks; total = water + upkeep.

PostgreSQL computes the same in the batch statement of billing/sql.py (its round() on
numeric rounds half away from zero, which is half-up for these non-negative amounts); the
SQLite twin there calls this function.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing.models import LineStatus
from core.money import round_money


@dataclass(frozen=True)
class MeterMonth:
    """What one meter of the flat says about the month."""

    initial_value: Decimal
    current: Decimal | None  # this month's reading
    previous: Decimal | None  # the previous month's reading
    has_older: bool = False  # readings before the previous month exist


@dataclass(frozen=True)
class Line:
    status: str
    consumption: Decimal
    water_cost: Decimal
    upkeep_cost: Decimal
    total: Decimal


def meter_consumption(meter: MeterMonth) -> Decimal | None:
    """The meter's consumption in the month, None when a reading is missing or goes back."""
    before = meter.previous
    if before is None and not meter.has_older:
        before = meter.initial_value
    if meter.current is None or before is None or meter.current < before:
        return None
    return meter.current - before


def rent_line(
    *,
    area: Decimal,
    meters: Sequence[MeterMonth],
    water_tariff: Decimal,
    upkeep_tariff: Decimal,
) -> Line:
    """The flat's line for the month (see the module doc)."""
    used = [meter_consumption(meter) for meter in meters]
    known = [amount for amount in used if amount is not None]
    if not used:
        status, consumption = LineStatus.NO_METER, Decimal(0)
    elif len(known) < len(used):
        status, consumption = LineStatus.NEEDS_READING, Decimal(0)
    else:
        status, consumption = LineStatus.OK, sum(known, Decimal(0))
    water_cost = round_money(consumption * water_tariff)
    upkeep_cost = round_money(area * upkeep_tariff)
    return Line(str(status), consumption, water_cost, upkeep_cost, water_cost + upkeep_cost)
