import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.errors import RunActive, RunCompleted
from billing.models import Charge, RentRun
from core.admin import NoDeleteAdmin, ReadOnlyAdmin, ReadOnlyInline, add_service_errors
from housing.models import House
from housing.periods import current_month, validate_month

if TYPE_CHECKING:
    # Generic only in django-stubs; Django's own class takes no type arguments at runtime.
    _LinesFormSet = BaseInlineFormSet[Charge, RentRun, forms.ModelForm[Charge]]
else:
    _LinesFormSet = BaseInlineFormSet


class RentMonthForm(forms.Form):
    """The month of a rent run (and whether to redo a completed one)."""

    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    month = forms.IntegerField(label=_("month"), min_value=1, max_value=12)
    recalculate = forms.BooleanField(
        label=_("recalculate"),
        required=False,
        help_text=_("Replace the month's charges if they were calculated already."),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        year, month = current_month()
        super().__init__(data, initial={"year": year, "month": month, **(initial or {})}, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data is not None and "year" in data and "month" in data:
            try:
                validate_month(data["year"], data["month"])
            except ValidationError as exc:
                add_service_errors(self, exc)
        return data


class RentRunStartForm(RentMonthForm):
    house = forms.ModelChoiceField(
        label=_("house"), queryset=House.objects.select_related("street")
    )
    field_order = ["house", "year", "month", "recalculate"]


def start_runs(
    request: HttpRequest, *, houses: Iterable[House], year: int, month: int, recalculate: bool
) -> list[RentRun]:
    """Start (or find) the runs through the same service as the API, telling the operator."""
    runs: list[RentRun] = []
    for house in houses:
        run, created = services.start_rent_run(
            house=house, year=year, month=month, recalculate=recalculate, user=request.user
        )
        runs.append(run)
        text = (
            gettext("Rent run started: %(run)s.")
            if created
            else gettext("A run of this month exists already (%(status)s): %(run)s.")
        ) % {"run": run, "status": run.get_status_display()}
        messages.add_message(request, messages.SUCCESS if created else messages.INFO, text)
    return runs


def progress_bar(run: RentRun) -> str:
    percent = run.percent
    return format_html(
        '<span class="rent-progress"><progress max="100" value="{}"></progress> '
        '<span class="rent-progress-text">{} / {} ({} %)</span></span>',
        f"{percent:.1f}",
        run.done_flats,
        run.total_flats,
        number_format(percent, 1),
    )


class PagedLinesFormSet(_LinesFormSet):
    """A run's lines one page at a time (`?lines_page=`): a big house has thousands."""

    per_page = 50
    requested_page = "1"

    def get_queryset(self) -> QuerySet[Charge]:
        if not hasattr(self, "_queryset"):
            # Never None in an inline formset (the parent's rows); Django's own fallback otherwise.
            if self.queryset is not None:
                qs = self.queryset
            else:
                qs = self.model._default_manager.get_queryset()
            qs = qs.order_by("flat__number", "flat_id")
            self.total = qs.count()
            self.pages = max(1, math.ceil(self.total / self.per_page))
            try:
                page = int(self.requested_page)
            except (TypeError, ValueError):
                page = 1
            self.page = min(max(page, 1), self.pages)
            start = (self.page - 1) * self.per_page
            self._queryset = qs.select_related("flat__house__street")[start : start + self.per_page]
        return self._queryset

    def page_links(self) -> list[tuple[int, bool]]:
        return [(n, n == self.page) for n in range(1, self.pages + 1)]


_LINE_FIELDS = ("flat", "status", "area", "water_consumption", "water_cost", "upkeep_cost", "total")


class LinesInline(ReadOnlyInline):
    model = Charge
    fk_name = "run"
    formset = PagedLinesFormSet
    template = "admin/billing/rentrun/lines_inline.html"
    verbose_name = _("line")
    verbose_name_plural = _("lines per flat")
    fields = _LINE_FIELDS
    readonly_fields = _LINE_FIELDS

    def get_formset(
        self, request: HttpRequest, obj: Model | None = None, **kwargs: Any
    ) -> "type[BaseInlineFormSet[Any, Any, forms.ModelForm[Any]]]":
        # A subclass of `formset` (Django's formset factory builds it), so a PagedLinesFormSet.
        formset = cast(type[PagedLinesFormSet], super().get_formset(request, obj, **kwargs))
        formset.requested_page = request.GET.get("lines_page", "1")
        return formset


_RUN_FIELDS = ("house", "period", "status", "progress", "result", "error")
_RUN_DETAIL_FIELDS = (
    "id",
    "recalculate",
    "water_tariff",
    "upkeep_tariff",
    "needs_reading_flats",
    "attempts",
    "created_by",
    "created_at",
    "started_at",
    "heartbeat_at",
    "finished_at",
)


@admin.register(RentRun)
class RentRunAdmin(NoDeleteAdmin):
    """Runs are started through the rent service (the add page, or the houses' action) and
    only looked at afterwards: every field is read-only, progress refreshes by itself."""

    list_display = ["short_id", "house", "period", "status", "progress", "result"]
    list_display_links = ["short_id"]
    list_filter = ["status", "year", "month", "recalculate"]
    search_fields = ["=id", "house__street__name"]
    list_select_related = ["house__street"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": _RUN_FIELDS}),
        (_("Details"), {"classes": ["collapse"], "fields": _RUN_DETAIL_FIELDS}),
    ]
    readonly_fields = (*_RUN_FIELDS, *_RUN_DETAIL_FIELDS)
    inlines = [LinesInline]
    actions = ["resume"]
    change_form_template = "admin/billing/rentrun/change_form.html"

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("run"), ordering="created_at")
    def short_id(self, obj: RentRun) -> str:
        return str(obj.pk)[:8]

    @admin.display(description=_("month"), ordering="year")
    def period(self, obj: RentRun) -> str:
        return f"{obj.year}-{obj.month:02d}"

    @admin.display(description=_("progress"))
    def progress(self, obj: RentRun) -> str:
        return progress_bar(obj)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="billing_rentrun_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """What the run page polls while the run works."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        return JsonResponse(
            {
                "status": run.status,
                "status_display": run.get_status_display(),
                "active": run.status in RentRun.ACTIVE,
                "done": run.done_flats,
                "total": run.total_flats,
                "percent": run.percent,
                "percent_display": number_format(run.percent, 1),
                "result": None if run.result is None else str(run.result),
                "error": run.error,
            }
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RentRunStartForm(request.POST or None, initial=request.GET.dict() or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            [run] = start_runs(
                request,
                houses=[data["house"]],
                year=data["year"],
                month=data["month"],
                recalculate=data["recalculate"],
            )
            return HttpResponseRedirect(reverse("admin:billing_rentrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Start a rent run"),
            "form": form,
            "submit_label": gettext("Start"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/billing/rentrun/start.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = get_object_or_404(RentRun, pk=object_id) if _is_uuid(object_id) else None
        extra = {**(extra_context or {})}
        if run is not None:
            extra["run_active"] = run.status in RentRun.ACTIVE
            extra["progress_url"] = reverse("admin:billing_rentrun_progress", args=[run.pk])
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description=_("Resume / retry the selected runs"))
    def resume(self, request: HttpRequest, queryset: QuerySet[RentRun]) -> None:
        resumed = 0
        for run in queryset.exclude(status=RentRun.Status.COMPLETED):
            try:
                services.restart_run(run=run)
            except (RunCompleted, RunActive) as exc:
                self.message_user(request, f"{run}: {exc.detail}", messages.WARNING)
            else:
                resumed += 1
        self.message_user(
            request, gettext("%(count)d runs re-enqueued.") % {"count": resumed}, messages.SUCCESS
        )


def _is_uuid(value: str) -> bool:
    try:
        RentRun._meta.pk.to_python(value)
    except ValidationError:
        return False
    return True


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "flat",
        "period",
        "status",
        "water_consumption",
        "water_cost",
        "upkeep_cost",
        "total",
    ]
    list_filter = ["status", "year", "month", "house__street"]
    search_fields = ["house__street__name", "=house__number", "=flat__number"]
    list_select_related = ["flat__house__street"]
    readonly_fields = [f.name for f in Charge._meta.fields]

    @admin.display(description=_("month"), ordering="year")
    def period(self, obj: Charge) -> str:
        return f"{obj.year}-{obj.month:02d}"
