"""The resource API's billing shapes (/api/v1/...). Money is a decimal string here."""

from typing import Any

from rest_framework import serializers

from billing.models import Charge, RentRun
from core.serializer_fields import money_serializer_field
from housing.models import House
from housing.serializers import MonthSerializer


class RunHouseSerializer(serializers.ModelSerializer[House]):
    street_name = serializers.CharField(source="street.name")

    class Meta:
        model = House
        fields = ["id", "number", "street_name"]


class RunProgressSerializer(serializers.Serializer[RentRun]):
    done = serializers.IntegerField(source="done_flats")
    total = serializers.IntegerField(source="total_flats")
    percent = serializers.FloatField()


class RentRunSerializer(serializers.ModelSerializer[RentRun]):
    house = RunHouseSerializer()
    progress = RunProgressSerializer(source="*")

    class Meta:
        model = RentRun
        fields = [
            "id",
            "house",
            "year",
            "month",
            "status",
            "recalculate",
            "progress",
            "result",
            "needs_reading_flats",
            "water_tariff",
            "upkeep_tariff",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]


class RentRunCreateSerializer(MonthSerializer):
    house = serializers.PrimaryKeyRelatedField(queryset=House.objects.all())
    recalculate = serializers.BooleanField(default=False)


class ChargeSerializer(serializers.ModelSerializer[Charge]):
    flat_number = serializers.IntegerField(source="flat.number")

    class Meta:
        model = Charge
        fields = [
            "id",
            "house",
            "flat",
            "flat_number",
            "year",
            "month",
            "run",
            "status",
            "area",
            "water_consumption",
            "water_tariff",
            "upkeep_tariff",
            "water_cost",
            "upkeep_cost",
            "total",
        ]


class HouseMonthQuerySerializer(MonthSerializer):
    pass


# Renders a dict: the house month's totals and its `lines` (charges). No docstring: it would
# become the schema's description.
class HouseMonthChargesSerializer(serializers.Serializer[dict[str, Any]]):
    house = serializers.IntegerField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    flats = serializers.IntegerField()
    needs_reading = serializers.IntegerField()
    water_cost = money_serializer_field(allow_null=True)
    upkeep_cost = money_serializer_field(allow_null=True)
    total = money_serializer_field(allow_null=True)
    lines = ChargeSerializer(many=True)
