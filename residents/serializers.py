"""Shapes of the residents API. Money is a decimal string, quantities too."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from accounts.balances.serializers import amount_field
from accounts.models import Account, User
from billing.models import Charge
from core.openapi import ApiErrorSerializer
from core.serializer_fields import money_serializer_field
from housing.fields import quantity_field
from housing.models import Flat, MeterReading, WaterMeter
from housing.serializers import MonthSerializer
from residents.models import ChargePayment, FlatCode, Residency


class ReadingWindowSerializer(serializers.Serializer):
    opens = serializers.DateField()
    closes = serializers.DateField()


class ReadingWindowErrorSerializer(ApiErrorSerializer):
    # Only with `outside_reading_window`; `rent_started` and `reading_closed` have no window.
    window = ReadingWindowSerializer(required=False)


class ResidentReadingSerializer(serializers.ModelSerializer):
    submitted_by = serializers.SerializerMethodField()

    class Meta:
        model = MeterReading
        fields = ["id", "meter", "year", "month", "value", "created_at", "submitted_by"]

    def get_submitted_by(self, reading) -> int | None:
        """The resident (user id) who submitted it; null: entered by an operator."""
        submission = getattr(reading, "submission", None)
        return submission.user_id if submission else None


class ResidentMeterSerializer(serializers.ModelSerializer):
    last_reading = serializers.SerializerMethodField()

    class Meta:
        model = WaterMeter
        fields = ["id", "serial", "installed_on", "removed_on", "initial_value", "last_reading"]

    def get_last_reading(self, meter) -> ResidentReadingSerializer(allow_null=True):  # type: ignore[valid-type]
        readings = list(meter.readings.all())  # prefetched, newest first
        return ResidentReadingSerializer(readings[0]).data if readings else None


class MyFlatSerializer(serializers.ModelSerializer):
    street_name = serializers.CharField(source="house.street.name")
    house_number = serializers.IntegerField(source="house.number")
    meters = ResidentMeterSerializer(many=True)

    class Meta:
        model = Flat
        fields = ["id", "house", "street_name", "house_number", "number", "area", "meters"]


class RedeemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="The flat code the operator handed out.")


class ResidentReadingCreateSerializer(serializers.Serializer):
    meter = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    value = quantity_field(min_value=Decimal(0), help_text="Cumulative dial value, m3.")


class ResidentReadingUpdateSerializer(serializers.Serializer):
    value = quantity_field(min_value=Decimal(0), help_text="Cumulative dial value, m3.")


class MyChargeSerializer(serializers.ModelSerializer):
    flat_number = serializers.IntegerField(source="flat.number")
    water = money_serializer_field(source="water_cost")
    upkeep = money_serializer_field(source="upkeep_cost")
    paid = money_serializer_field(source="paid_amount")
    due = money_serializer_field()
    payment_state = serializers.CharField(help_text="paid | partly_paid | unpaid")
    # Plain text: the same choices as billing's charges, without a second enum in the schema.
    status = serializers.CharField(help_text="ok | needs_reading | no_meter")

    class Meta:
        model = Charge
        fields = [
            "id",
            "flat",
            "flat_number",
            "year",
            "month",
            "status",
            "water_consumption",
            "water_tariff",
            "upkeep_tariff",
            "water",
            "upkeep",
            "total",
            "paid",
            "due",
            "payment_state",
        ]


class ChargesQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    flat = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


class PayInputSerializer(serializers.Serializer):
    amount = amount_field(required=False)  # omitted: everything due


class ChargePaymentSerializer(serializers.ModelSerializer):
    charge = serializers.SerializerMethodField()

    class Meta:
        model = ChargePayment
        fields = ["id", "charge", "amount", "movement", "created_at"]

    # The return annotation names the serializer for the OpenAPI schema (drf-spectacular).
    def get_charge(self, payment) -> MyChargeSerializer:
        from residents.selectors import with_payment_state

        charge = with_payment_state(Charge.objects.filter(pk=payment.charge_id)).select_related(
            "flat"
        )
        return MyChargeSerializer(charge.get()).data  # type: ignore[return-value]


# --- operators -------------------------------------------------------------------------------


class ResidencySerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    flat = serializers.PrimaryKeyRelatedField(queryset=Flat.objects.all())

    class Meta:
        model = Residency
        fields = ["id", "user", "flat", "created_at", "created_by"]
        read_only_fields = ["created_at", "created_by"]
        validators: list[Any] = []  # linking twice answers the existing residency


class FlatCodeSerializer(serializers.ModelSerializer):
    flat = serializers.PrimaryKeyRelatedField(queryset=Flat.objects.all())

    class Meta:
        model = FlatCode
        fields = ["id", "code", "flat", "expires_at", "created_at", "used_by", "used_at"]
        read_only_fields = ["code", "expires_at", "created_at", "used_by", "used_at"]


class CollectionAccountSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), allow_null=True, help_text="null: use the global one."
    )


class CollectionAccountAnswerSerializer(serializers.Serializer):
    house = serializers.IntegerField()
    account = serializers.IntegerField(allow_null=True, help_text="The house's own account.")
    effective_account = serializers.IntegerField(
        allow_null=True, help_text="Where payments go: the house's own, else the global one."
    )


class HouseReadingSerializer(ResidentReadingSerializer):
    flat_number = serializers.IntegerField(source="meter.flat.number")
    serial = serializers.CharField(source="meter.serial")

    class Meta(ResidentReadingSerializer.Meta):
        fields = ["id", "flat_number", "meter", "serial", "value", "created_at", "submitted_by"]


class HouseReadingsSerializer(serializers.Serializer):
    readings = HouseReadingSerializer(many=True)
    flats_without_readings = serializers.ListField(child=serializers.IntegerField())


class DebtorSerializer(serializers.Serializer):
    charge = serializers.IntegerField(source="pk")
    flat = serializers.IntegerField(source="flat_id")
    flat_number = serializers.IntegerField(source="flat.number")
    total = money_serializer_field()
    paid = money_serializer_field(source="paid_amount")
    due = money_serializer_field()
    payment_state = serializers.CharField()
    residents = serializers.SerializerMethodField()

    def get_residents(self, charge) -> list[int]:
        return [residency.user_id for residency in charge.flat.residencies.all()]


class HousePaymentsSerializer(serializers.Serializer):
    house = serializers.IntegerField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    flats = serializers.IntegerField()
    paid = serializers.IntegerField(help_text="Charges paid in full.")
    partly_paid = serializers.IntegerField()
    unpaid = serializers.IntegerField()
    total = money_serializer_field()
    paid_amount = money_serializer_field()
    debt = money_serializer_field()
    debtors = DebtorSerializer(many=True)


class MonthQuerySerializer(MonthSerializer):
    pass
