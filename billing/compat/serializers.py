"""The compatible payment shapes. Money is a JSON number here, as the original API sends it."""

from rest_framework import serializers

from core.serializer_fields import money_serializer_field
from housing.periods import MAX_YEAR, MIN_YEAR


def _number(**kwargs) -> serializers.DecimalField:
    """Money as a JSON number, as the original API sends it."""
    return money_serializer_field(coerce_to_string=False, **kwargs)


class CalculateInSerializer(serializers.Serializer):
    home_number = serializers.IntegerField(min_value=1)
    street_name = serializers.CharField(max_length=200)
    month = serializers.IntegerField(min_value=1, max_value=12)
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    recalculate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Replace the month's completed charges with a new calculation.",
    )


class TaskIdSerializer(serializers.Serializer):
    task_id = serializers.UUIDField(source="pk")


class PaymentStreetSerializer(serializers.Serializer):
    street_name = serializers.CharField(source="name")


class PaymentHomeSerializer(serializers.Serializer):
    house_number = serializers.IntegerField(source="number")
    street = PaymentStreetSerializer()


class PaymentCounterSerializer(serializers.Serializer):
    done = serializers.IntegerField(source="done_flats")
    total = serializers.IntegerField(source="total_flats")
    percent = serializers.FloatField()


class PaymentLineSerializer(serializers.Serializer):
    flat_number = serializers.IntegerField(source="flat.number")
    water_consumption = serializers.DecimalField(
        max_digits=14, decimal_places=3, coerce_to_string=False
    )
    water_cost = _number()
    maintenance_cost = _number(source="upkeep_cost")
    total_cost = _number(source="total")
    status = serializers.CharField(help_text="ok | needs_reading | no_meter")


class PaymentProgressSerializer(serializers.Serializer):
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

    def get_flats(self, run) -> PaymentLineSerializer(many=True):  # type: ignore[valid-type]
        return PaymentLineSerializer(self.context["lines"], many=True).data
