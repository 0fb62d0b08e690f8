from django.contrib import admin
from django.db.models import Count, Q

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

    @admin.display(ordering="houses_count", description="houses")
    def houses_count(self, obj) -> int:
        return obj.houses_count


class FlatInline(admin.TabularInline):
    model = Flat
    extra = 0
    fields = ["number", "area"]
    show_change_link = True


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

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(flats_count=Count("flats"))

    @admin.display(ordering="flats_count", description="flats")
    def flats_count(self, obj) -> int:
        return obj.flats_count


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

    @admin.display(ordering="meters_count", description="meters")
    def meters_count(self, obj) -> int:
        return obj.meters_count


class InstalledFilter(admin.SimpleListFilter):
    title = "installed"
    parameter_name = "installed"

    def lookups(self, request, model_admin):
        return [("yes", "installed"), ("no", "removed")]

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


@admin.register(MeterReading)
class MeterReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "year", "month", "value", "created_at"]
    list_filter = ["year", "month"]
    search_fields = ["meter__serial"]
    list_select_related = ["meter"]
    autocomplete_fields = ["meter"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["kind", "price", "valid_from", "house"]
    list_filter = ["kind", ("house", admin.EmptyFieldListFilter)]
    search_fields = ["house__street__name"]
    list_select_related = ["house__street"]
    autocomplete_fields = ["house"]
