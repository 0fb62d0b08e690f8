from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.admin import RentMonthForm, start_runs
from core.admin import add_service_errors
from housing import services
from housing.models import Flat, House, MeterReading, Street, Tariff, WaterMeter


class HouseInline(admin.TabularInline):
    model = House
    extra = 0
    fields = ["number"]
    show_change_link = True


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["name", "houses_count"]
    search_fields = ["name"]
    inlines = [HouseInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(houses_count=Count("houses"))

    @admin.display(ordering="houses_count", description=_("houses"))
    def houses_count(self, obj) -> int:
        return obj.houses_count


class FlatInline(admin.TabularInline):
    model = Flat
    extra = 0
    fields = ["number", "area"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("house__street")


class TariffInline(admin.TabularInline):
    model = Tariff
    extra = 0
    fields = ["kind", "price", "valid_from"]


@admin.register(House)
class HouseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "street", "number", "flats_count", "created_at"]
    list_filter = ["street"]
    search_fields = ["street__name", "=number"]
    list_select_related = ["street"]
    autocomplete_fields = ["street"]
    inlines = [FlatInline, TariffInline]
    actions = ["start_rent_runs"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("street")
            .annotate(flats_count=Count("flats"))
        )

    @admin.display(ordering="flats_count", description=_("flats"))
    def flats_count(self, obj) -> int:
        return obj.flats_count

    @admin.action(description=_("Calculate the rent of the selected houses"), permissions=["view"])
    def start_rent_runs(self, request, queryset):
        """Asks for the month first, then starts one run per house through the rent service."""
        form = RentMonthForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            runs = start_runs(
                request, houses=queryset.select_related("street"), **form.cleaned_data
            )
            self.message_user(
                request, gettext("%(count)d rent runs asked for.") % {"count": len(runs)}
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Calculate the rent of %(count)d houses")
            % {"count": queryset.count()},
            "form": form,
            "houses": queryset.select_related("street"),
            "action": "start_rent_runs",
            "submit_label": gettext("Start"),
        }
        return TemplateResponse(request, "admin/housing/house/start_rent_runs.html", context)


class MeterInline(admin.TabularInline):
    model = WaterMeter
    extra = 0
    fields = ["serial", "installed_on", "removed_on", "initial_value"]
    show_change_link = True


class ReadingInline(admin.TabularInline):
    model = MeterReading
    extra = 0
    fields = ["year", "month", "value"]
    ordering = ["-year", "-month"]


@admin.register(Flat)
class FlatAdmin(admin.ModelAdmin):
    list_display = ["number", "house", "area", "meters_count"]
    list_filter = ["house__street"]
    search_fields = ["house__street__name", "=house__number", "=number"]
    list_select_related = ["house__street"]
    autocomplete_fields = ["house"]
    inlines = [MeterInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(meters_count=Count("meters", filter=Q(meters__removed_on__isnull=True)))
        )

    @admin.display(ordering="meters_count", description=_("meters"))
    def meters_count(self, obj) -> int:
        return obj.meters_count


class InstalledFilter(admin.SimpleListFilter):
    title = _("installed")
    parameter_name = "installed"

    def lookups(self, request, model_admin):
        return [("yes", _("installed")), ("no", _("removed"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(removed_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(removed_on__isnull=False)
        return queryset


@admin.register(WaterMeter)
class WaterMeterAdmin(admin.ModelAdmin):
    list_display = ["serial", "flat", "installed_on", "removed_on", "initial_value"]
    list_filter = [InstalledFilter, "flat__house__street"]
    search_fields = ["serial", "flat__house__street__name"]
    list_select_related = ["flat__house__street"]
    autocomplete_fields = ["flat"]
    inlines = [ReadingInline]

    def get_queryset(self, request):
        # The title names the flat ("serial (Садовая 5, кв. 12)"), also in autocompletes.
        return super().get_queryset(request).select_related("flat__house__street")


class MeterReadingForm(forms.ModelForm):
    """Shows the meter service's verdict (e.g. a value below the previous month's) as a form
    error, before anything is saved."""

    class Meta:
        model = MeterReading
        fields = ["meter", "year", "month", "value"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        reading = self.instance if self.instance.pk else None
        meter = data.get("meter") or (reading.meter if reading else None)
        year = data.get("year") or (reading.year if reading else None)
        month = data.get("month") or (reading.month if reading else None)
        if meter is not None and year and month and data.get("value") is not None:
            try:
                services.check_reading(
                    meter=meter, year=year, month=month, value=data["value"], reading=reading
                )
            except ValidationError as exc:
                add_service_errors(self, exc)
        return data


@admin.register(MeterReading)
class MeterReadingAdmin(admin.ModelAdmin):
    """Readings are recorded and corrected through the meter service, under its rules."""

    form = MeterReadingForm
    list_display = ["street", "house_number", "flat_number", "serial", "year", "month", "value"]
    list_display_links = ["serial"]
    list_filter = ["meter__flat__house__street", "meter__flat__house", "year", "month"]
    search_fields = [
        "meter__flat__house__street__name",
        "=meter__flat__house__number",
        "=meter__flat__number",
        "meter__serial",
    ]
    list_select_related = ["meter__flat__house__street"]
    autocomplete_fields = ["meter"]

    def get_readonly_fields(self, request, obj=None):
        # A correction changes the value only; another month or meter is another reading.
        return ["meter", "year", "month"] if obj else []

    @admin.display(description=_("street"), ordering="meter__flat__house__street__name")
    def street(self, obj: MeterReading) -> str:
        return obj.meter.flat.house.street.name

    @admin.display(description=_("house"), ordering="meter__flat__house__number")
    def house_number(self, obj: MeterReading) -> int:
        return obj.meter.flat.house.number

    @admin.display(description=_("flat"), ordering="meter__flat__number")
    def flat_number(self, obj: MeterReading) -> int:
        return obj.meter.flat.number

    @admin.display(description=_("serial"), ordering="meter__serial")
    def serial(self, obj: MeterReading) -> str:
        return obj.meter.serial

    def save_model(self, request, obj, form, change):
        # The form checked the rules already; the service checks them again under the meter's
        # lock, so two operators cannot slip a falling pair of readings in at once.
        if change:
            services.update_reading(reading=obj, value=obj.value)
        else:
            [saved] = services.record_readings(
                entries=[(obj.meter, obj.value)], year=obj.year, month=obj.month
            )
            obj.pk, obj.created_at = saved.pk, saved.created_at

    def delete_model(self, request, obj):
        services.delete_reading(reading=obj)

    def delete_queryset(self, request, queryset):
        for reading in queryset:
            services.delete_reading(reading=reading)


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["kind", "price", "valid_from", "house"]
    list_filter = ["kind", ("house", admin.EmptyFieldListFilter)]
    search_fields = ["house__street__name"]
    list_select_related = ["house__street"]
    autocomplete_fields = ["house"]
