from django.contrib import admin, messages

from billing import services
from billing.models import Charge, RentRun
from core.exceptions import Conflict


@admin.register(RentRun)
class RentRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "house",
        "year",
        "month",
        "status",
        "done_flats",
        "total_flats",
        "result",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "year", "month", "recalculate"]
    search_fields = ["=id", "house__street__name"]
    list_select_related = ["house__street"]
    readonly_fields = [f.name for f in RentRun._meta.fields]
    actions = ["resume"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Resume / retry the selected runs")
    def resume(self, request, queryset):
        resumed = 0
        for run in queryset.exclude(status=RentRun.Status.COMPLETED):
            try:
                services.restart_run(run=run)
            except Conflict as exc:
                self.message_user(request, f"{run.pk}: {exc.detail}", messages.WARNING)
            else:
                resumed += 1
        self.message_user(request, f"{resumed} runs re-enqueued.", messages.SUCCESS)


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = [
        "flat",
        "house",
        "year",
        "month",
        "status",
        "water_cost",
        "upkeep_cost",
        "total",
    ]
    list_filter = ["status", "year", "month"]
    search_fields = ["house__street__name", "=flat__number"]
    list_select_related = ["flat", "house__street"]
    readonly_fields = [f.name for f in Charge._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
