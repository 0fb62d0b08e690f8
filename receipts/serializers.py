"""Request and response shapes.

The input serializers document the receipt for the OpenAPI schema; the checking itself is done
by `receipts.validation.validate_receipt` (one fast validator for every entry point, see there).
"""

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field

from core.serializer_fields import money_serializer_field
from receipts.models import Place
from receipts.services.ingestion import MAX_BULK


class ReceiptItemInSerializer(serializers.Serializer):
    product_id = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1)
    price = money_serializer_field(
        min_value=0, help_text="Unit price; a JSON number or a decimal string."
    )
    category = serializers.CharField(max_length=100)


class ReceiptInSerializer(serializers.Serializer):
    transaction_id = serializers.CharField(max_length=100, help_text="Unique per receipt.")
    timestamp = serializers.DateTimeField(
        help_text="ISO 8601; without an offset it is read in the server's time zone."
    )
    # many=True makes a ListSerializer, which takes min_length (the stubs do not know).
    items = ReceiptItemInSerializer(many=True, min_length=1)  # type: ignore[call-arg]
    total_amount = money_serializer_field(
        min_value=0,
        help_text="Sum of quantity x price over the items (within 0.01); tips not included.",
    )
    nds_amount = money_serializer_field(min_value=0, help_text="VAT (НДС) included in the total.")
    tips_amount = money_serializer_field(
        min_value=0, required=False, help_text="Tips on top; 0 if absent."
    )
    payment_method = serializers.CharField(max_length=32)
    place_id = serializers.CharField(max_length=64)
    place_name = serializers.CharField(max_length=255)


class ReceiptItemOutSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    quantity = serializers.IntegerField()
    price = serializers.CharField(help_text="Decimal with 2 places.")
    category = serializers.CharField()


class ReceiptOutSerializer(serializers.Serializer):
    """A stored receipt. A plain Serializer: ModelSerializer rebuilds its fields per request."""

    transaction_id = serializers.CharField()
    timestamp = serializers.DateTimeField(help_text="In the server's time zone.")
    items = ReceiptItemOutSerializer(many=True)
    total_amount = money_serializer_field()
    nds_amount = money_serializer_field()
    tips_amount = money_serializer_field()
    payment_method = serializers.CharField()
    place_id = serializers.CharField()
    place_name = serializers.CharField()
    received_at = serializers.DateTimeField()


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the receipt in the request.")
    transaction_id = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(
        choices=["created", "duplicate", "conflict", "invalid", "forbidden"],
        help_text="created: accepted now; duplicate: accepted before with the same content "
        "(counted once); conflict: the id was used with other content; invalid: see errors; "
        "forbidden: the place is not assigned to this point of sale (nothing stored).",
    )
    # An output field named like Serializer.errors (this serializer only renders).
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="Field errors, as in a 400 answer."
    )


class BulkOutSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    invalid = serializers.IntegerField()
    forbidden = serializers.IntegerField(help_text="Receipts for places not assigned to you.")
    results = BulkResultSerializer(many=True)


BULK_REQUEST_DESCRIPTION = f"A JSON array of 1 to {MAX_BULK} receipts."


class PlaceSerializer(serializers.ModelSerializer):
    place_id = serializers.CharField(source="code")
    place_name = serializers.CharField(source="name")

    class Meta:
        model = Place
        fields = ["place_id", "place_name", "first_seen_at"]


class TaxesSerializer(serializers.Serializer):
    total_nds = money_serializer_field()
    total_tips = money_serializer_field()


class CategoryAnalyticsSerializer(serializers.Serializer):
    total_spent = money_serializer_field()
    average_receipt = money_serializer_field(
        help_text="Spend in the category per receipt that holds it."
    )


class HourlySerializer(serializers.Serializer):
    hour = serializers.DateTimeField(help_text="Start of the hour, in the server's time zone.")
    total_purchases = serializers.IntegerField()
    total_amount = money_serializer_field()
    average_receipt = money_serializer_field()
    total_nds = money_serializer_field()
    total_tips = money_serializer_field()


class PlaceAnalyticsSerializer(serializers.Serializer):
    place_id = serializers.CharField()
    place_name = serializers.CharField()
    total_purchases = serializers.IntegerField()
    total_amount = money_serializer_field(help_text="Sum of total_amount (tips not included).")
    average_receipt = money_serializer_field(
        help_text="total_amount / total_purchases, rounded half-up."
    )
    taxes_amount = TaxesSerializer()
    category_analytics = serializers.DictField(
        child=CategoryAnalyticsSerializer(), help_text="Keyed by category name."
    )
    hourly = HourlySerializer(many=True)


# Range bounds of the analytics queries, with a day of slack for time-zone offsets. Outside
# them a date cannot always be converted to the server's time zone (year 1 is a 500 otherwise).
EARLIEST = datetime(1969, 12, 30, tzinfo=UTC)
LATEST = datetime(2100, 1, 2, tzinfo=UTC)
# What the OpenAPI schema promises: a date or date-time of the years 1970-2099.
MOMENT_PATTERN = (
    r"^(19[7-9]\d|20\d\d)-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])"
    r"(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(Z|[+-](0\d|1[0-3]):[0-5]\d)?)?$"
)


class MomentField(serializers.DateTimeField):
    default_error_messages = {"out_of_range": "Give a moment between 1970 and 2099."}

    def to_internal_value(self, value: Any) -> datetime:
        try:
            moment = super().to_internal_value(value)
        except OverflowError:
            self.fail("out_of_range")
        if not EARLIEST <= moment < LATEST:
            self.fail("out_of_range")
        return moment


class AnalyticsQuerySerializer(serializers.Serializer):
    from_ = MomentField(
        required=False,
        help_text="Hours starting at or after this moment (ISO 8601 or a date).",
    )
    to = MomentField(
        required=False, help_text="Hours starting before this moment (ISO 8601 or a date)."
    )

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        # The parameter is `from`, a Python keyword: declared as `from_`, renamed here.
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def to_internal_value(self, data: Any) -> Any:
        # A bare date means its midnight in the server's time zone.
        data = {
            key: f"{value}T00:00" if isinstance(value, str) and len(value.strip()) == 10 else value
            for key, value in data.items()
            if key in ("from", "to")
        }
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("from"), attrs.get("to")
        if since and until and since >= until:
            raise serializers.ValidationError({"to": ["Must be later than `from`."]})
        return attrs


class PointOfSalePlaceSerializer(serializers.Serializer):
    place_id = serializers.CharField(source="place_code")
    assigned_at = serializers.DateTimeField()
    assigned_by = serializers.CharField(
        source="assigned_by.username", default=None, allow_null=True
    )


class PointOfSalePlaceInSerializer(serializers.Serializer):
    place_id = serializers.CharField(max_length=64)
