"""Admin of balances, the money ledger (models in accounts/models/balances.py).

Balances and movements are read-only here: money only moves through the services, so the
ledger and the cached balances cannot drift apart by a hand edit.
"""

from django.contrib import admin, messages
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Account, ExchangeRate, Movement, Service
from core.admin import ReadOnlyAdmin

LATEST_MOVEMENTS = 20


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "currency", "balance", "created_at")
    list_display_links = ("id", "owner")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "user__phone")
    fields = ("owner", "currency", "balance", "created_at", "latest_movements")
    readonly_fields = fields
    actions = ["verify_ledger"]

    @admin.display(description=_("owner"), ordering="user__username")
    def owner(self, obj: Account) -> str:
        return str(obj.user)

    @admin.display(description=_("latest movements"))
    def latest_movements(self, obj: Account) -> str:
        """The account's last movements, both directions, as a read-only table."""
        rows = (
            Movement.objects.filter(Q(debit_account=obj) | Q(credit_account=obj))
            .select_related("debit_account__user", "credit_account__user", "service")
            .order_by("-created_at", "-id")[:LATEST_MOVEMENTS]
        )
        return render_to_string(
            "admin/accounts/account/latest_movements.html", {"account": obj, "movements": rows}
        )

    @admin.action(description=_("Verify every balance against the ledger"))
    def verify_ledger(self, request, queryset) -> None:
        found = ledger_discrepancies()
        if not found:
            self.message_user(
                request, gettext("Every balance equals its ledger sum."), messages.SUCCESS
            )
        for item in found:
            self.message_user(
                request,
                gettext("Account %(account)s: balance %(balance)s, ledger %(ledger)s")
                % {"account": item.account_id, "balance": item.balance, "ledger": item.ledger_sum},
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
