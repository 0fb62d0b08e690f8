"""The compatible payment shapes. Money is a JSON number here, as the original API sends it."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import ReturnList

from billing.models import ChargeFields, RentRun
from core.serializer_fields import money_serializer_field
from housing.models import House, Street
from housing.periods import MAX_YEAR, MIN_YEAR


def _number(**kwargs: Any) -> serializers.DecimalField:
    """Money as a JSON number, as the original API sends it."""
    return money_serializer_field(coerce_to_string=False, **kwargs)


class CalculateInSerializer(serializers.Serializer[Any]):  # input only
    home_number = serializers.IntegerField(min_value=1)
    street_name = serializers.CharField(max_length=200)
    month = serializers.IntegerField(min_value=1, max_value=12)
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    recalculate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Replace the month's completed charges with a new calculation.",
    )


class TaskIdSerializer(serializers.Serializer[RentRun]):
    task_id = serializers.UUIDField(source="pk")


class PaymentStreetSerializer(serializers.Serializer[Street]):
    street_name = serializers.CharField(source="name")


class PaymentHomeSerializer(serializers.Serializer[House]):
    house_number = serializers.IntegerField(source="number")
    street = PaymentStreetSerializer()


class PaymentCounterSerializer(serializers.Serializer[RentRun]):
    done = serializers.IntegerField(source="done_flats")
    total = serializers.IntegerField(source="total_flats")
    percent = serializers.FloatField()


class PaymentLineSerializer(serializers.Serializer[ChargeFields]):
    flat_number = serializers.IntegerField(source="flat.number")
    water_consumption = serializers.DecimalField(
        max_digits=14, decimal_places=3, coerce_to_string=False
    )
    water_cost = _number()
    maintenance_cost = _number(source="upkeep_cost")
    total_cost = _number(source="total")
    status = serializers.CharField(help_text="ok | needs_reading | no_meter")


class PaymentProgressSerializer(serializers.Serializer[RentRun]):
    task_id = serializers.UUIDField(source="pk")
    home = PaymentHomeSerializer(source="house")
    month = serializers.IntegerField()
    year = serializers.IntegerField()
    status = serializers.CharField(help_text="PENDING | IN_PROGRESS | COMPLETED | FAILED")
    result = _number(
        allow_null=True,
        help_text="Sum of the lines written so far (null before the first batch); the "
        "final amount once COMPLETED.",
    )
    error = serializers.CharField(help_text="Why the run failed; empty otherwise.")
    progress = PaymentCounterSerializer(source="*")
    flats = serializers.SerializerMethodField()

    @extend_schema_field(PaymentLineSerializer(many=True))
    def get_flats(self, run: RentRun) -> ReturnList[Any]:
        lines = PaymentLineSerializer(self.context["lines"], many=True)
        # many=True makes it a ListSerializer (its data a ReturnList), which the stubs miss.
        return cast(ReturnList[Any], lines.data)
