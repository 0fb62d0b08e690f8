import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from receipts import charts, selectors
from receipts.models import (
    Category,
    DeadLetter,
    Place,
    PlaceHour,
    PointOfSalePlace,
    Purchase,
    Receipt,
)


def pretty_json(value) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap'>{}</pre>",
        json.dumps(value, ensure_ascii=False, indent=2, default=str),
    )


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = (
        "transaction_id",
        "timestamp",
        "place_id",
        "place_name",
        "total_amount",
        "channel",
        "posted_by",
        "received_at",
    )
    list_filter = ("channel", "payment_method")
    search_fields = ("transaction_id", "place_id", "place_name")
    date_hierarchy = "received_at"
    list_select_related = ("posted_by",)
    exclude = ("items",)
    readonly_fields = ("items_pretty",)

    @admin.display(description=_("items"))
    def items_pretty(self, obj: Receipt) -> str:
        return pretty_json(obj.items)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Refused receipts and stream events (invalid, conflicting, malformed)."""

    list_display = ("created_at", "reason", "channel", "transaction_id", "caller", "summary")
    list_filter = ("reason", "channel")
    search_fields = ("transaction_id",)
    date_hierarchy = "created_at"
    list_select_related = ("caller",)
    exclude = ("errors", "payload")
    readonly_fields = ("errors_pretty", "payload_pretty")

    @admin.display(description=_("first error"))
    def summary(self, obj: DeadLetter) -> str:
        for field, messages in (obj.errors or {}).items():
            return f"{field}: {json.dumps(messages, ensure_ascii=False)[:120]}"
        return ""

    @admin.display(description=_("errors"))
    def errors_pretty(self, obj: DeadLetter) -> str:
        return pretty_json(obj.errors)

    @admin.display(description=_("payload"))
    def payload_pretty(self, obj: DeadLetter) -> str:
        return pretty_json(obj.payload)


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "first_seen_at")
    search_fields = ("code", "name")
    readonly_fields = ("code", "named_at", "first_seen_at", "last_24_hours")

    @admin.display(description=_("last 24 hours"))
    def last_24_hours(self, obj: Place) -> str:
        if obj.pk is None:
            return ""
        # The SVG is built from our own numbers with every text node escaped.
        return mark_safe(  # noqa: S308  see above
            charts.last_day_svg(place=obj, series=selectors.last_day_series(place=obj))
        )

    def has_add_permission(self, request) -> bool:
        return False  # places are registered by the consumer


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ("transaction_id", "place", "timestamp", "hour", "total_amount", "counted_at")
    list_select_related = ("place",)
    search_fields = ("transaction_id",)
    list_filter = ("place",)


@admin.register(PlaceHour)
class PlaceHourAdmin(ReadOnlyAdmin):
    list_display = ("place", "hour", "purchases", "total_amount", "total_nds", "total_tips")
    list_select_related = ("place",)
    list_filter = ("place",)
    date_hierarchy = "hour"


@admin.register(PointOfSalePlace)
class PointOfSalePlaceAdmin(admin.ModelAdmin):
    """Which places each point of sale may post receipts for (operators edit these)."""

    list_display = ("user", "place_code", "assigned_by", "assigned_at")
    list_filter = ("place_code",)
    search_fields = ("user__username", "place_code")
    autocomplete_fields = ("user",)
    readonly_fields = ("assigned_by", "assigned_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.assigned_by = request.user
        super().save_model(request, obj, form, change)
