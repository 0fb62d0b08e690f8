"""The operator's import page (upload, dry-run preview, confirm, progress, error file) and the
jobs' list. Export buttons on the houses, readings and charges lists come from this app's
change_list templates (templates/admin/<app>/<model>/change_list.html)."""

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from imports import services
from imports.errors import FileFormatError, NotDryRun
from imports.kinds import KINDS
from imports.models import ImportJob

# A previewed row's outcome, as the job page shows it.
OUTCOMES = {
    "created": _("created"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "failed": _("with errors"),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("xlsx or CSV; columns by their English or Russian header.")
    )
    kind = forms.ChoiceField(label=_("What it holds"), choices=ImportJob.Kind.choices)
    mode = forms.ChoiceField(label=_("Rows with errors"), choices=ImportJob.Mode.choices)
    dry_run = forms.BooleanField(
        required=False, initial=True, label=_("Preview first (dry run: check, write nothing)")
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "kind", "file_name", "dry_run", "mode", "status", "percent_done",
        "created", "updated", "unchanged", "failed",
    ]  # fmt: skip
    list_filter = ["status", "kind", "dry_run"]
    search_fields = ["file_name", "=sha256"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    @admin.display(description=_("done"))
    def percent_done(self, job: ImportJob) -> str:
        return f"{job.percent:.0f}%"

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="imports_upload"),
            path(
                "<uuid:job_id>/job/",
                self.admin_site.admin_view(self.job_view),
                name="imports_job",
            ),
            path(
                "<uuid:job_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="imports_confirm",
            ),
        ]
        return own + super().get_urls()

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self.upload_view(request)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self.job_view(request, object_id)

    def _check(self, request: HttpRequest) -> None:
        if not self.has_add_permission(request):
            raise PermissionDenied

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job, created = services.start_import(
                    upload=form.cleaned_data["file"],
                    kind=form.cleaned_data["kind"],
                    dry_run=form.cleaned_data["dry_run"],
                    mode=form.cleaned_data["mode"],
                    user=request.user,
                )
            except FileFormatError as exc:
                form.add_error("file", str(exc))
            else:
                if not created:
                    self.message_user(
                        request, _("This file was uploaded before: its job is below.")
                    )
                return redirect("admin:imports_job", job_id=job.pk)
        templates = [(kind, f"/api/v1/imports/templates/{kind}.xlsx") for kind in KINDS]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a file"),
            "form": form,
            "templates": templates,
        }
        return TemplateResponse(request, "admin/imports/upload.html", context)

    def job_view(self, request: HttpRequest, job_id: UUID | str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            job = get_object_or_404(ImportJob, pk=job_id)
        except ValidationError as exc:  # not a UUID
            raise Http404 from exc
        columns = KINDS[job.kind].columns
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import: %(file)s") % {"file": job.file_name},
            "job": job,
            "columns": [c.header(get_language() or "") for c in columns],
            "preview": [
                {
                    "row": row["row"],
                    # In the kind's column order: the stored values are a jsonb object, whose
                    # keys PostgreSQL keeps in its own order.
                    "cells": [row["values"].get(c.name) for c in columns],
                    "outcome": OUTCOMES.get(row["outcome"], row["outcome"]),
                    "errors": row["errors"],
                }
                for row in job.preview
            ],
            "errors": job.row_errors.order_by("row")[:20],
            "api_url": f"/api/v1/imports/{job.pk}/",
            # What the page's script shows for the API's status and pass values.
            "labels": {**dict(ImportJob.Status.choices), **dict(ImportJob.Phase.choices)},
            "confirmed": ImportJob.objects.filter(kind=job.kind, sha256=job.sha256, dry_run=False)
            .exclude(status=ImportJob.Status.FAILED)
            .first(),
        }
        return TemplateResponse(request, "admin/imports/job.html", context)

    def confirm_view(self, request: HttpRequest, job_id: UUID) -> HttpResponse:
        self._check(request)
        job = get_object_or_404(ImportJob, pk=job_id)
        if request.method != "POST":
            return redirect("admin:imports_job", job_id=job.pk)
        try:
            new, _ = services.confirm_dry_run(
                job=job, mode=request.POST.get("mode") or None, user=request.user
            )
        except (NotDryRun, FileFormatError) as exc:
            self.message_user(request, str(getattr(exc, "detail", exc)), messages.ERROR)
            return redirect("admin:imports_job", job_id=job.pk)
        return redirect(reverse("admin:imports_job", kwargs={"job_id": new.pk}))
