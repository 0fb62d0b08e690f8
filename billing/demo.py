"""Demo tariffs: global water and upkeep prices valid from 2020-01-01, so rent can be
calculated for any month since, for any house."""

from datetime import date
from decimal import Decimal

from django.core.management.base import OutputWrapper

from housing.demo import MONTHS_OF_READINGS, last_months
from housing.models import House, Tariff

GLOBAL_TARIFFS = {
    Tariff.Kind.WATER: Decimal("45.50"),  # per m3
    Tariff.Kind.UPKEEP: Decimal("32.15"),  # per m2
}
VALID_FROM = date(2020, 1, 1)


def seed(*, stdout: OutputWrapper) -> list[str]:
    for kind, price in GLOBAL_TARIFFS.items():
        Tariff.objects.get_or_create(
            kind=kind, house=None, valid_from=VALID_FROM, defaults={"price": price}
        )
    # One house with its own upkeep price, to show that a house tariff beats the global one.
    house = House.objects.filter(street__name="Садовая улица", number=5).first()
    if house is not None:
        Tariff.objects.get_or_create(
            kind=Tariff.Kind.UPKEEP,
            house=house,
            valid_from=VALID_FROM,
            defaults={"price": Decimal("28.40")},
        )
    year, month = last_months(MONTHS_OF_READINGS)[-1]
    return [
        "billing: global water 45.50/m3 and upkeep 32.15/m2 tariffs from 2020-01-01. Try: "
        "curl -X POST -H 'Authorization: Token <operator token>' -H 'Content-Type: "
        "application/json' localhost:8000/payment/calculate/ -d '{\"home_number\": 1, "
        f'"street_name": "Первая улица", "month": {month}, "year": {year}}}\'',
    ]
