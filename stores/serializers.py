from typing import Any

from rest_framework import serializers

from core.lean_serializers import FlatInputSerializer
from core.openapi import ApiErrorSerializer
from core.permissions import is_operator
from stores.models import ITEM_ID_MAX_LENGTH, STORE_ID_PATTERN, StockMovement, Store

MAX_QUANTITY = 1_000_000_000
MAX_GROUP_LINES = 1000
OPERATIONS = [("supply", "supply"), ("demand", "demand")]


# --- input ----------------------------------------------------------------------------------
class StockLineInputSerializer(FlatInputSerializer):
    item_id = serializers.CharField(max_length=ITEM_ID_MAX_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class OperationInputSerializer(StockLineInputSerializer):
    operation = serializers.ChoiceField(choices=OPERATIONS)


class GroupOperationInputSerializer(serializers.Serializer):
    operation = serializers.ChoiceField(choices=OPERATIONS)
    # many=True makes a ListSerializer, which takes min/max_length (the stubs do not know).
    items = StockLineInputSerializer(  # type: ignore[call-arg]
        many=True,
        allow_empty=False,
        min_length=1,
        max_length=MAX_GROUP_LINES,
        help_text="Repeated ids are summed.",
    )


class StoreInputSerializer(serializers.Serializer):
    # Not a ModelSerializer: a taken id is a conflict (409, from the service), not bad input.
    store_id = serializers.RegexField(
        STORE_ID_PATTERN,
        max_length=64,
        error_messages={"invalid": "Letters, digits, '_', '-' and '.' only (1-64)."},
    )


# --- output ---------------------------------------------------------------------------------
class StockLineSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    quantity = serializers.IntegerField()


class StoreStockSerializer(serializers.Serializer):
    store_id = serializers.CharField()
    report = StockLineSerializer(many=True, help_text="Items in stock, sorted by item_id.")


class StoreReportSerializer(serializers.Serializer):
    store = StoreStockSerializer()


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["store_id", "created_at"]


class StockMovementSerializer(serializers.ModelSerializer):
    item_id = serializers.CharField(source="item.item_id")
    user = serializers.CharField(
        source="user.username",
        allow_null=True,
        default=None,
        help_text="Who made the change; shown to operators only (null for others).",
    )
    # A plain string: an enum here would collide with the request's `operation` enum.
    operation = serializers.CharField(help_text="supply, demand or clean")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "item_id",
            "operation",
            "delta",
            "quantity_after",
            "user",
            "request_id",
            "created_at",
        ]

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        # Who did what is personal data: operators see it, everyone else reads null.
        request = self.context.get("request")
        if not is_operator(getattr(request, "user", None)):
            data["user"] = None
        return data


class ShortageSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class InsufficientStockErrorSerializer(ApiErrorSerializer):
    # An output field named like Serializer.errors (this serializer only renders).
    errors = ShortageSerializer(  # type: ignore[assignment]
        many=True, help_text="Every line that could not be served."
    )
