"""Serializer fields shared by the housing and billing APIs."""

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class RoundedDecimalField(serializers.DecimalField):
    """A decimal that accepts any precision (clients of the original API send floats such as
    90.3072359239811) and rounds it half-up to the field's decimal places instead of refusing it."""

    rounds = True  # the OpenAPI pattern allows any number of decimal places
    # Always given here (quantity_field, money fields); DRF's own field allows None.
    max_digits: int
    decimal_places: int
    max_whole_digits: int

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rounding", ROUND_HALF_UP)
        super().__init__(**kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        # Refuse numbers too large for the field before rounding: quantize() of 1e135 to 3
        # places cannot be represented and raises InvalidOperation (a 500).
        if value and value.adjusted() >= self.max_whole_digits:
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        # The bounds apply to the number given, not to its rounding (0.0009 is below 0.001).
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        step = Decimal(1).scaleb(-self.decimal_places)
        context = Context(prec=self.max_digits + 1)
        rounded = value.quantize(step, rounding=ROUND_HALF_UP, context=context)
        return super().validate_precision(rounded)


def quantity_field(**kwargs: Any) -> RoundedDecimalField:
    """Areas and meter values: 3 decimal places."""
    return RoundedDecimalField(max_digits=12, decimal_places=3, **kwargs)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "1,2,3"},
            {"type": "array", "items": {"type": "integer"}},
            {"type": "integer"},
        ]
    }
)
class IntegerListField(serializers.Field):
    """Flat numbers as "1,2,3" (as form-data sends them), a JSON list or one int."""

    default_error_messages = {"invalid": "Give positive integers separated by commas."}

    def to_internal_value(self, data: Any) -> list[int]:
        items: list[Any]
        if isinstance(data, int) and not isinstance(data, bool):
            items = [data]
        elif isinstance(data, str):
            items = [part.strip() for part in data.split(",") if part.strip()]
        elif isinstance(data, list):
            items = data
        else:
            self.fail("invalid")
        try:
            numbers = [int(item) for item in items]
        except (TypeError, ValueError):
            self.fail("invalid")
        if not numbers or any(n < 1 for n in numbers) or any(isinstance(i, bool) for i in items):
            self.fail("invalid")
        return numbers

    def to_representation(self, value: Any) -> Any:
        return value
