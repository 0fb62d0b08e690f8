"""Admin of the money ledger (imported by accounts.admin).

Balances and movements are read-only here: money only moves through the services, so the
ledger and the cached balances cannot drift apart by a hand edit.
"""

from django.contrib import admin, messages

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Account, ExchangeRate, Movement, Service
from core.admin import ReadOnlyAdmin


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "balance", "currency", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "user__phone")
    actions = ["verify_ledger"]

    @admin.action(description="Verify every balance against the ledger")
    def verify_ledger(self, request, queryset) -> None:
        found = ledger_discrepancies()
        if not found:
            self.message_user(request, "Every balance equals its ledger sum.", messages.SUCCESS)
        for item in found:
            self.message_user(
                request,
                f"Account {item.account_id}: balance {item.balance}, ledger {item.ledger_sum}",
                messages.ERROR,
            )


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "amount",
        "debit_account",
        "credit_account",
        "service",
        "comment",
        "created_at",
    )
    list_filter = ("kind",)
    list_select_related = ("debit_account__user", "credit_account__user", "service")
    search_fields = ("comment", "debit_account__user__username", "credit_account__user__username")
    date_hierarchy = "created_at"


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "price", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "description")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "date", "rate", "source", "fetched_at")
    list_filter = ("currency",)
    date_hierarchy = "date"
