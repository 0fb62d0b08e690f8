"""The compatible endpoints' shapes: houses as {house_number, street: {street_name},
flats: [...]}, readings as {home, flat, year, month, water_amount}. Numbers are JSON numbers, as
the original API sends them."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from housing.fields import IntegerListField, quantity_field
from housing.periods import MAX_YEAR, MIN_YEAR
from housing.services import FlatSpec


class StreetOutSerializer(serializers.Serializer):
    street_name = serializers.CharField(source="name")


class FlatOutSerializer(serializers.Serializer):
    flat_number = serializers.IntegerField(source="number")
    flat_size = serializers.DecimalField(
        source="area", max_digits=12, decimal_places=3, coerce_to_string=False
    )
    water_checkers_count = serializers.IntegerField(
        source="meters_count", help_text="Meters installed in the flat (not removed)."
    )


class HomeOutSerializer(serializers.Serializer):
    house_number = serializers.IntegerField(source="number")
    street = StreetOutSerializer()
    flats = FlatOutSerializer(many=True)


class StreetInSerializer(serializers.Serializer):
    street_name = serializers.CharField(max_length=200)

    def validate(self, attrs):
        # Also in a partial update: a `street` object without its name says nothing.
        if "street_name" not in attrs:
            raise serializers.ValidationError({"street_name": ["This field is required."]})
        return attrs


class FlatInSerializer(serializers.Serializer):
    flat_number = serializers.IntegerField(min_value=1, max_value=100_000)
    flat_size = quantity_field(
        min_value=Decimal("0.001"), coerce_to_string=False, help_text="Area, m² (> 0)."
    )
    water_checkers_count = serializers.IntegerField(
        min_value=0,
        max_value=10,
        required=False,
        default=0,
        help_text="Meters to install in a new flat (ignored for flats that exist).",
    )

    def validate(self, attrs):
        # A partial house update still needs whole flats.
        missing = {"flat_number", "flat_size"} - attrs.keys()
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs

    def to_spec(self, data: dict[str, Any]) -> FlatSpec:
        return FlatSpec(
            number=data["flat_number"],
            area=data["flat_size"],
            meters=data.get("water_checkers_count", 0),
        )


class HomeInSerializer(serializers.Serializer):
    house_number = serializers.IntegerField(min_value=1, max_value=1_000_000)
    street = StreetInSerializer()
    flats = FlatInSerializer(many=True, required=False, default=list)

    def service_kwargs(self) -> dict:
        data = self.validated_data
        kwargs = {}
        if "house_number" in data:
            kwargs["number"] = data["house_number"]
        if "street" in data:
            kwargs["street_name"] = data["street"].get("street_name")
        if "flats" in data:
            kwargs["flats"] = [FlatInSerializer().to_spec(flat) for flat in data["flats"]]
        return kwargs


class HomeAddressQuerySerializer(serializers.Serializer):
    home_number = serializers.IntegerField(
        min_value=1, max_value=1_000_000, help_text="House number."
    )
    street_name = serializers.CharField(max_length=200, help_text="Street name.")


class WaterCheckerInSerializer(serializers.Serializer):
    home = serializers.IntegerField(min_value=1, help_text="House number.")
    street_name = serializers.CharField(
        max_length=200, required=False, help_text="Needed when several streets have that number."
    )
    flat = serializers.IntegerField(min_value=1, required=False, help_text="One flat number.")
    flats = IntegerListField(required=False, help_text="Flat numbers separated by commas.")
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    month = serializers.IntegerField(min_value=1, max_value=12)
    water_amount = quantity_field(
        min_value=Decimal(0), coerce_to_string=False, help_text="Cumulative meter value, m³."
    )
    serial = serializers.CharField(
        max_length=64, required=False, help_text="Meter serial; needed if a flat has several."
    )

    def validate(self, attrs):
        numbers = list(attrs.get("flats") or [])
        if "flat" in attrs:
            numbers.insert(0, attrs["flat"])
        if not numbers:
            raise serializers.ValidationError({"flats": ["Give `flat` or `flats`."]})
        if attrs.get("serial") and len(numbers) > 1:
            raise serializers.ValidationError({"serial": ["A serial names one flat's meter."]})
        attrs["flat_numbers"] = numbers
        return attrs


class WaterCheckerFilterSerializer(serializers.Serializer):
    home = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, help_text="House number."
    )
    street_name = serializers.CharField(
        max_length=200, required=False, help_text="Street, if the number repeats."
    )
    flats = IntegerListField(required=False)
    flat = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    def __init__(self, *args: Any, exclude_flats: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if exclude_flats:  # the schema describes `flats` as a query parameter of its own
            del self.fields["flats"]

    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)


class WaterCheckerOutSerializer(serializers.Serializer):
    home = serializers.IntegerField(source="meter.flat.house.number")
    flat = serializers.IntegerField(source="meter.flat.number")
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    water_amount = serializers.DecimalField(
        source="value", max_digits=12, decimal_places=3, coerce_to_string=False
    )
    serial = serializers.CharField(source="meter.serial", help_text="The meter's serial.")
