"""Money: Decimal everywhere, rounded half-up to kopecks in one place, and the one model field
for amounts (the matching serializer field is core.serializer_fields.money_serializer_field)."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

KOPECK = Decimal("0.01")
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def round_money(value: Decimal | int | str) -> Decimal:
    """Round a monetary amount half-up to whole kopecks."""
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


def money_field(**kwargs: Any) -> "models.DecimalField[Decimal, Decimal]":
    """A model (or ORM expression output) field for an amount in roubles and kopecks."""
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )
