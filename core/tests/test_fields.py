"""JSON scalars parse as the OpenAPI schema types them (core.apps)."""

from decimal import Decimal

import pytest
from rest_framework import serializers


class Body(serializers.Serializer):
    name = serializers.CharField(required=False)
    flag = serializers.BooleanField(required=False)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)


@pytest.mark.parametrize("body", [{"name": 0}, {"name": 1.5}, {"flag": 0}, {"flag": 1}])
def test_numbers_are_not_text_nor_booleans(body):
    serializer = Body(data=body)
    assert not serializer.is_valid()
    assert set(serializer.errors) == set(body)


def test_strings_still_parse_as_before():
    serializer = Body(data={"name": " Садовая улица ", "flag": "true", "price": "1.50"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {
        "name": "Садовая улица",
        "flag": True,
        "price": Decimal("1.50"),
    }


@pytest.mark.parametrize(("value", "expected"), [(250.5, "250.50"), (7, "7.00"), (0.07, "0.07")])
def test_a_json_number_with_cents_is_that_amount(value, expected):
    serializer = Body(data={"price": value})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["price"] == Decimal(expected)


@pytest.mark.parametrize("value", [0.1 + 0.2, 250.555, 456006150381.9386, 1e300])
def test_a_json_number_off_the_grid_of_cents_is_refused(value):
    """0.1 + 0.2 is not a multiple of 0.01 for JSON Schema either (0.30000000000000004)."""
    assert not Body(data={"price": value}).is_valid()
