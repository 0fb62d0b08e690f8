from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from stores import services
from stores.models import ReportDelivery, StockItem, StockMovement, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["store_id", "created_at"]
    search_fields = ["store_id"]
    actions = ["clean_stores"]

    def get_readonly_fields(self, request, obj=None):
        # The id is the public address of the store's API and websocket: fixed once created.
        return ["store_id", "created_at"] if obj else ["created_at"]

    @admin.action(description="Empty the selected stores (recorded as clean movements)")
    def clean_stores(self, request, queryset):
        for store in queryset:
            services.clean_store(
                store=store, user=request.user, request_id=services.new_request_id()
            )
        self.message_user(request, f"{queryset.count()} store(s) emptied.", messages.SUCCESS)


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    """Quantities are read-only here: they change only through movements (API or actions)."""

    list_display = ["item_id", "store", "quantity", "updated_at", "history"]
    list_filter = ["store"]
    search_fields = ["item_id", "store__store_id"]
    list_select_related = ["store"]
    readonly_fields = ["store", "item_id", "quantity", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="history")
    def history(self, obj: StockItem) -> str:
        url = reverse("admin:stores_stockmovement_changelist") + f"?item__id__exact={obj.pk}"
        return format_html('<a href="{}">movements</a>', url)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The append-only log of stock changes."""

    list_display = [
        "created_at",
        "store_id_display",
        "item_id_display",
        "operation",
        "delta",
        "quantity_after",
        "user",
        "request_id",
    ]
    list_filter = ["operation", "item__store"]
    search_fields = ["item__item_id", "request_id", "user__username"]
    list_select_related = ["item__store", "user"]
    date_hierarchy = "created_at"

    @admin.display(description="store", ordering="item__store__store_id")
    def store_id_display(self, obj: StockMovement) -> str:
        return obj.item.store.store_id

    @admin.display(description="item", ordering="item__item_id")
    def item_id_display(self, obj: StockMovement) -> str:
        return obj.item.item_id


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ["day", "sent_at", "chat_id", "as_document"]
    readonly_fields = ["day", "sent_at", "chat_id", "as_document"]
