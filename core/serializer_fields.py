"""Serializer fields shared by the apps' APIs. Kept out of core.money so that services, which
round money, do not import DRF."""

from typing import Any

from rest_framework import serializers

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


def money_serializer_field(**kwargs: Any) -> serializers.DecimalField:
    """An amount in roubles and kopecks, the API twin of core.money.money_field. A decimal
    string in JSON unless `coerce_to_string=False` (the compatible endpoints send numbers)."""
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )
