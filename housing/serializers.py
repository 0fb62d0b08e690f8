"""The resource API's shapes (/api/v1/...). Money and quantities are decimal strings."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.serializer_fields import money_serializer_field
from housing.fields import quantity_field
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter
from housing.periods import MAX_YEAR, MIN_YEAR
from housing.services import FlatSpec, ReadingSpec

POSITIVE_AREA = {"min_value": Decimal("0.001")}


class StreetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Street
        fields = ["id", "name"]


class HouseFlatSerializer(serializers.ModelSerializer):
    meters_count = serializers.IntegerField(read_only=True, help_text="Installed meters.")

    class Meta:
        model = Flat
        fields = ["id", "number", "area", "meters_count"]


class HouseSerializer(serializers.ModelSerializer):
    street = StreetSerializer()
    flats = HouseFlatSerializer(many=True)

    class Meta:
        model = House
        fields = ["id", "number", "street", "flats", "created_at"]


class FlatSpecSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=100_000)
    area = quantity_field(**POSITIVE_AREA, help_text="m2, > 0")
    meters = serializers.IntegerField(
        min_value=0, max_value=10, default=0, help_text="Meters to install in a new flat."
    )

    def validate(self, attrs):
        # A partial house update still needs whole flats.
        missing = {"number", "area"} - attrs.keys()
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


class HouseCreateSerializer(serializers.Serializer):
    street_name = serializers.CharField(max_length=200)
    number = serializers.IntegerField(min_value=1, max_value=1_000_000)
    flats = FlatSpecSerializer(many=True, required=False, default=list)

    def service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "flats" in data:
            data["flats"] = [FlatSpec(**flat) for flat in data["flats"]]
        return data


class HouseUpdateSerializer(HouseCreateSerializer):
    """Every field optional; `flats` adds missing flats and resizes listed ones."""


class FlatSerializer(serializers.ModelSerializer):
    meters_count = serializers.IntegerField(read_only=True)
    house_number = serializers.IntegerField(source="house.number", read_only=True)
    street_name = serializers.CharField(source="house.street.name", read_only=True)

    class Meta:
        model = Flat
        fields = ["id", "house", "house_number", "street_name", "number", "area", "meters_count"]


class FlatCreateSerializer(serializers.Serializer):
    house = serializers.PrimaryKeyRelatedField(queryset=House.objects.all())
    number = serializers.IntegerField(min_value=1, max_value=100_000)
    area = quantity_field(**POSITIVE_AREA)
    meters = serializers.IntegerField(min_value=0, max_value=10, default=0)


class FlatUpdateSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    area = quantity_field(**POSITIVE_AREA, required=False)


class MeterSerializer(serializers.ModelSerializer):
    flat_number = serializers.IntegerField(source="flat.number", read_only=True)
    house = serializers.IntegerField(source="flat.house_id", read_only=True)

    class Meta:
        model = WaterMeter
        fields = [
            "id",
            "flat",
            "flat_number",
            "house",
            "serial",
            "installed_on",
            "removed_on",
            "initial_value",
        ]


class MeterCreateSerializer(serializers.Serializer):
    flat = serializers.PrimaryKeyRelatedField(queryset=Flat.objects.all())
    serial = serializers.CharField(max_length=64, required=False, help_text="Generated if empty.")
    installed_on = serializers.DateField(
        required=False, help_text="Empty: installed before any month on record."
    )
    initial_value = quantity_field(min_value=Decimal(0), default=Decimal(0))


class MeterReplaceSerializer(serializers.Serializer):
    removed_on = serializers.DateField()
    final_value = quantity_field(
        min_value=Decimal(0),
        required=False,
        help_text="The old meter's last value, stored as its reading for the removal month.",
    )
    new_serial = serializers.CharField(max_length=64, required=False)
    new_initial_value = quantity_field(min_value=Decimal(0), default=Decimal(0))


class ReadingSerializer(serializers.ModelSerializer):
    serial = serializers.CharField(source="meter.serial", read_only=True)
    flat = serializers.IntegerField(source="meter.flat_id", read_only=True)
    flat_number = serializers.IntegerField(source="meter.flat.number", read_only=True)
    house = serializers.IntegerField(source="meter.flat.house_id", read_only=True)

    class Meta:
        model = MeterReading
        fields = [
            "id",
            "meter",
            "serial",
            "flat",
            "flat_number",
            "house",
            "year",
            "month",
            "value",
        ]


class MonthSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    month = serializers.IntegerField(min_value=1, max_value=12)


class ReadingCreateSerializer(MonthSerializer):
    meter = serializers.PrimaryKeyRelatedField(queryset=WaterMeter.objects.all())
    value = quantity_field(min_value=Decimal(0), help_text="Cumulative dial value, m3.")


class ReadingUpdateSerializer(serializers.Serializer):
    value = quantity_field(min_value=Decimal(0))


class BulkReadingItemSerializer(serializers.Serializer):
    flat_number = serializers.IntegerField(min_value=1)
    serial = serializers.CharField(max_length=64, required=False)
    value = quantity_field(min_value=Decimal(0))


class BulkReadingsSerializer(MonthSerializer):
    house = serializers.PrimaryKeyRelatedField(queryset=House.objects.all())
    readings = BulkReadingItemSerializer(many=True, allow_empty=False)

    def specs(self) -> list[ReadingSpec]:
        return [ReadingSpec(**item) for item in self.validated_data["readings"]]


class TariffSerializer(serializers.ModelSerializer):
    house = serializers.PrimaryKeyRelatedField(
        queryset=House.objects.all(), required=False, allow_null=True
    )
    price = money_serializer_field(min_value=Decimal(0))

    class Meta:
        model = Tariff
        fields = ["id", "kind", "price", "valid_from", "house", "created_at"]
        read_only_fields = ["created_at"]
        # Uniqueness is checked by the service (and the database) with a clear message.
        validators: list[Any] = []


class TariffUpdateSerializer(serializers.Serializer):
    price = money_serializer_field(min_value=Decimal(0), required=False)
    valid_from = serializers.DateField(required=False)
