from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import NoDeleteAdmin, ReadOnlyAdmin, ReadOnlyInline
from stores import services
from stores.models import ITEM_ID_MAX_LENGTH, ReportDelivery, StockItem, StockMovement, Store

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _LastMove(TypedDict):
    last_moved_at: datetime | None


class _ItemsCount(TypedDict):
    items_count: int


class StockOperationForm(forms.Form):
    """One supply or demand of one item, as the stock API takes it."""

    operation = forms.ChoiceField(
        label=_("operation"),
        choices=[
            (StockMovement.Operation.SUPPLY, StockMovement.Operation.SUPPLY.label),
            (StockMovement.Operation.DEMAND, StockMovement.Operation.DEMAND.label),
        ],
    )
    item_id = forms.CharField(label=_("item id"), max_length=ITEM_ID_MAX_LENGTH)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=10**12)


class StockInline(ReadOnlyInline):
    model = StockItem
    verbose_name = _("stock item")
    verbose_name_plural = _("stock")
    fields = readonly_fields = ("item_id", "quantity", "last_movement", "history")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(last_moved_at=Max("movements__created_at"))

    @admin.display(description=_("last movement"))
    def last_movement(self, obj: "WithAnnotations[StockItem, _LastMove]") -> str:
        if obj.last_moved_at is None:
            return "-"
        return date_format(timezone.localtime(obj.last_moved_at), "DATETIME_FORMAT")

    @admin.display(description=_("history"))
    def history(self, obj: StockItem) -> str:
        url = reverse("admin:stores_stockmovement_changelist") + f"?item__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("movements"))


@admin.register(Store)
class StoreAdmin(NoDeleteAdmin):  # deleting a store would take its stock and movement log
    list_display = ["store_id", "items_count", "created_at"]
    search_fields = ["store_id"]
    actions = ["clean_stores"]
    inlines = [StockInline]
    change_form_template = "admin/stores/store/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(items_count=Count("items", filter=Q(items__quantity__gt=0)))
        )

    @admin.display(description=_("items in stock"), ordering="items_count")
    def items_count(self, obj: "WithAnnotations[Store, _ItemsCount]") -> int:
        return obj.items_count

    def get_readonly_fields(self, request, obj=None):
        # The id is the public address of the store's API and websocket: fixed once created.
        return ["store_id", "created_at"] if obj else ["created_at"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/stock/",
                self.admin_site.admin_view(self.stock_view),
                name="stores_store_stock",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {})}
        if object_id.isdigit():
            # Nothing on a store's own form can change: its stock changes below.
            extra.update(show_save=False, show_save_and_continue=False)
            extra["show_save_and_add_another"] = False
            extra["stock_form"] = StockOperationForm()
            extra["stock_url"] = reverse("admin:stores_store_stock", args=[object_id])
        return super().change_view(request, object_id, form_url, extra)

    def stock_view(self, request, object_id):
        """Supply or demand through the stock service: logged, pushed to the store's
        websocket subscribers; a shortage is refused and changes nothing."""
        store = self.get_object(request, object_id)
        if store is None:
            raise Http404
        if not self.has_change_permission(request, store):
            raise PermissionDenied
        back = reverse("admin:stores_store_change", args=[store.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        form = StockOperationForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                text = " ".join(str(error) for error in errors)
                self.message_user(request, f"{label}: {text}", messages.ERROR)
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        try:
            services.apply_operation(
                store=store,
                operation=data["operation"],
                item_id=data["item_id"],
                quantity=data["quantity"],
                user=request.user,
            )
        except services.InsufficientStock as exc:
            [short] = exc.shortages
            self.message_user(
                request,
                gettext(
                    "Not enough stock: %(item)s requested %(requested)s, available "
                    "%(available)s. Nothing was changed."
                )
                % {
                    "item": short.item_id,
                    "requested": short.requested,
                    "available": short.available,
                },
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                gettext("%(operation)s of %(quantity)s %(item)s recorded.")
                % {
                    "operation": StockMovement.Operation(data["operation"]).label,
                    "quantity": data["quantity"],
                    "item": data["item_id"],
                },
                messages.SUCCESS,
            )
        return HttpResponseRedirect(back)

    @admin.action(description=_("Empty the selected stores (recorded as clean movements)"))
    def clean_stores(self, request, queryset):
        for store in queryset:
            services.clean_store(
                store=store, user=request.user, request_id=services.new_request_id()
            )
        self.message_user(
            request,
            gettext("%(count)d store(s) emptied.") % {"count": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(StockItem)
class StockItemAdmin(ReadOnlyAdmin):
    """Quantities change only through movements (the API or the store page)."""

    list_display = ["__str__", "store", "item_id", "quantity", "updated_at", "history"]
    list_filter = ["store"]
    search_fields = ["item_id", "store__store_id"]
    list_select_related = ["store"]

    @admin.display(description=_("history"))
    def history(self, obj: StockItem) -> str:
        url = reverse("admin:stores_stockmovement_changelist") + f"?item__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("movements"))


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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item__store")

    @admin.display(description=_("store"), ordering="item__store__store_id")
    def store_id_display(self, obj: StockMovement) -> str:
        return obj.item.store.store_id

    @admin.display(description=_("item"), ordering="item__item_id")
    def item_id_display(self, obj: StockMovement) -> str:
        return obj.item.item_id


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyAdmin):
    """Written by the daily report task (so that it never sends a day twice): only shown."""

    list_display = ["day", "sent_at", "chat_id", "as_document"]
