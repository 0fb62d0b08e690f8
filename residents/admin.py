"""Residents in the admin: residents on the flat page, flat codes, collection accounts, payments
and notices, and the payments overview (per house and month, with the debtors' xlsx)."""

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import F
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from billing.models import Charge
from core.admin import ReadOnlyAdmin
from core.openapi import XLSX_CONTENT_TYPE
from housing.models import Flat, MeterReading
from residents import selectors, services
from residents.models import (
    ChargePayment,
    CollectionAccount,
    FlatCode,
    Notification,
    RentPayment,
    Residency,
)
from residents.statements import debtors_xlsx

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class ResidencyInline(admin.TabularInline):
    model = Residency
    fk_name = "flat"
    extra = 0
    fields = ["user", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    raw_id_fields = ["user"]
    verbose_name = _("resident")
    verbose_name_plural = _("residents")


# The flat page is housing's; residents adds its inline there so housing need not know of it.
_flat_admin = admin.site._registry.get(Flat)
if _flat_admin is not None and ResidencyInline not in _flat_admin.inlines:
    # (patching the registered instance on purpose; the stubs call the attribute a class one)
    _flat_admin.inlines = [*_flat_admin.inlines, ResidencyInline]  # type: ignore[misc]


@admin.display(description=_("submitted by"))
def submitted_by(reading) -> str:
    submission = getattr(reading, "submission", None)
    if submission is None:
        return "—"  # entered by an operator
    return str(submission.user) if submission.user_id else "?"


# Likewise the readings list shows who submitted each reading (a resident, or an operator).
_reading_admin = admin.site._registry.get(MeterReading)
if _reading_admin is not None and submitted_by not in _reading_admin.list_display:
    _reading_admin.list_display = [*_reading_admin.list_display, submitted_by]
    _reading_admin.list_select_related = [  # type: ignore[misc]  # as above; never a bool here
        *_reading_admin.list_select_related,
        "submission__user",
    ]


@admin.register(Residency)
class ResidencyAdmin(admin.ModelAdmin):
    list_display = ["user", "flat", "created_at", "created_by"]
    list_filter = ["flat__house__street"]
    search_fields = ["user__username", "user__phone", "user__email", "=flat__number"]
    raw_id_fields = ["user", "flat"]
    readonly_fields = ["created_at", "created_by"]
    list_select_related = ["user", "flat__house__street", "created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(FlatCode)
class FlatCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "flat", "expires_at", "created_by", "used_by", "used_at"]
    search_fields = ["code", "=flat__number"]
    raw_id_fields = ["flat"]
    fields = ["flat", "code", "expires_at", "created_by", "used_by", "used_at"]
    readonly_fields = ["code", "expires_at", "created_by", "used_by", "used_at"]
    list_select_related = ["flat__house__street", "created_by", "used_by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the service: it sets the expiry and draws a free code.
        created = services.create_flat_code(flat=obj.flat, by=request.user)
        obj.pk, obj.code, obj.expires_at = created.pk, created.code, created.expires_at
        messages.info(request, _("Flat code %(code)s created.") % {"code": created.code})


@admin.register(CollectionAccount)
class CollectionAccountAdmin(admin.ModelAdmin):
    list_display = ["house", "account"]
    raw_id_fields = ["house", "account"]
    list_select_related = ["house__street", "account__user"]


@admin.register(ChargePayment)
class ChargePaymentAdmin(ReadOnlyAdmin):
    list_display = ["flat", "period", "amount", "user", "movement", "created_at"]
    list_filter = ["year", "month"]
    search_fields = ["user__username", "user__phone", "=flat__number"]
    list_select_related = ["flat__house__street", "user", "movement"]

    @admin.display(description=_("month"), ordering="year")
    def period(self, obj) -> str:
        return f"{obj.year}-{obj.month:02d}"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "address", "flat", "period", "amount", "status", "sent_at"]
    list_filter = ["kind", "status", "channel", "year", "month"]
    search_fields = ["address", "=flat__number"]
    list_select_related = ["flat__house__street"]

    @admin.display(description=_("month"), ordering="year")
    def period(self, obj) -> str:
        return f"{obj.year}-{obj.month:02d}"


class PaymentStateFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("paid", _("paid")), ("partly_paid", _("partly paid")), ("unpaid", _("unpaid"))]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(payment_state=self.value())
        return queryset


@admin.register(RentPayment)
class RentPaymentAdmin(ReadOnlyAdmin):
    """The payments overview: each charge with what is paid and due; filter by house and
    month, and download the debtors' xlsx of the selected house and month."""

    list_display = ["flat", "period", "total", "paid_amount", "due", "payment_state"]
    list_filter = [PaymentStateFilter, "year", "month", "house__street"]
    search_fields = ["house__street__name", "=house__number", "=flat__number"]
    list_select_related = ["flat__house__street"]
    actions = ["debtors_xlsx"]

    def get_queryset(self, request):
        return selectors.with_payment_state(super().get_queryset(request))

    @admin.display(description=_("month"), ordering="year")
    def period(self, obj) -> str:
        return f"{obj.year}-{obj.month:02d}"

    @admin.display(description=_("due"), ordering=F("total") - F("paid_amount"))
    def due(self, obj):
        return obj.due

    @admin.display(description=_("payment"), ordering="payment_state")
    def payment_state(self, obj) -> "StrPromise":
        return {"paid": _("paid"), "partly_paid": _("partly paid"), "unpaid": _("unpaid")}[
            obj.payment_state
        ]

    @admin.action(description=_("Debtors' xlsx of the selected charges' house and month"))
    def debtors_xlsx(self, request, queryset):
        periods = set(queryset.values_list("house_id", "year", "month").distinct())
        if len(periods) != 1:
            self.message_user(
                request, _("Select charges of one house and month."), messages.WARNING
            )
            return None
        [(house_id, year, month)] = periods
        house = Charge.objects.filter(house_id=house_id).select_related("house__street").first()
        if house is None:  # the charges were deleted since the list was shown
            return None
        content = debtors_xlsx(house=house.house, year=year, month=month)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        filename = f"debtors-house-{house_id}-{year}-{month:02d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def has_view_permission(self, request, obj=None) -> bool:
        # A proxy of billing's charges: whoever may view charges may view payments.
        return request.user.has_perm("billing.view_charge") or super().has_view_permission(
            request, obj
        )
