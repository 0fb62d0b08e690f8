"""The rent rules as a pure function: no database."""

from decimal import Decimal

import pytest

from billing.rules import Line, MeterMonth, meter_consumption, rent_line

D = Decimal
TARIFFS = {"water_tariff": D("41.35"), "upkeep_tariff": D("27.05")}


@pytest.mark.parametrize(
    ("meter", "used"),
    [
        (MeterMonth(initial_value=D(0), current=D("13.336"), previous=D("10.001")), D("3.335")),
        (MeterMonth(initial_value=D(1), current=D("3.5"), previous=None), D("2.5")),  # new
        (MeterMonth(initial_value=D(0), current=D(7), previous=D(7)), D(0)),
        (MeterMonth(initial_value=D(0), current=None, previous=D(4)), None),  # not read
        (MeterMonth(initial_value=D(0), current=D(6), previous=None, has_older=True), None),
        (MeterMonth(initial_value=D(0), current=D(3), previous=D(4)), None),  # went back
        (MeterMonth(initial_value=D(5), current=D(4), previous=None), None),  # below initial
    ],
)
def test_meter_consumption(meter, used):
    assert meter_consumption(meter) == used


def test_flat_line_sums_its_meters_and_rounds_each_component_half_up():
    meters = [
        MeterMonth(initial_value=D(0), current=D("2.5"), previous=D(1)),
        MeterMonth(initial_value=D(0), current=D(7), previous=D(7)),
    ]
    line = rent_line(area=D("61.005"), meters=meters, **TARIFFS)
    # 1.5 x 41.35 = 62.025 and 61.005 x 27.05 = 1650.18525: half-up, each on its own
    assert line == Line("ok", D("1.5"), D("62.03"), D("1650.19"), D("1712.22"))


def test_one_unread_meter_charges_no_water_for_the_flat():
    meters = [
        MeterMonth(initial_value=D(0), current=D(3), previous=D(1)),
        MeterMonth(initial_value=D(0), current=None, previous=D(1)),
    ]
    line = rent_line(area=D("20"), meters=meters, **TARIFFS)
    assert line == Line("needs_reading", D(0), D("0.00"), D("541.00"), D("541.00"))


def test_a_flat_without_meters_pays_upkeep_only():
    line = rent_line(area=D("99.999"), meters=[], **TARIFFS)
    assert line == Line("no_meter", D(0), D("0.00"), D("2704.97"), D("2704.97"))
