"""Shared admin pieces: the site's branding and the read-only base for records of what happened."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    # Generic only in django-stubs; Django's own classes take no type arguments at runtime.
    _ModelAdmin = admin.ModelAdmin[Any]
    _TabularInline = admin.TabularInline[Any, Any]
else:
    _ModelAdmin = admin.ModelAdmin
    _TabularInline = admin.TabularInline

admin.site.site_header = _("Housing & commerce: operators")
admin.site.site_title = _("Housing & commerce")
admin.site.index_title = _("Operations")
# The product's "site" is its API: "View site" opens its documentation.
admin.site.site_url = "/api/docs/"
# Room for the lists' columns: the app index is one click away (breadcrumbs, header).
admin.site.enable_nav_sidebar = False


class NoDeleteAdmin(_ModelAdmin):
    """Records whose removal would lose history (runs, stores, ledgers): no Delete button, no
    bulk delete, and Django answers 403 to the delete URL."""

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyAdmin(NoDeleteAdmin):
    """For records that only the services write (ledgers, logs, charges, rollups): viewable in
    the admin, never added, edited or deleted there. Django answers 403 to the add, change
    (POST) and delete URLs, shows no Save or Delete buttons, and offers no bulk delete."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(_TabularInline):
    """An inline that only shows rows (no add, change or delete)."""

    extra = 0
    can_delete = False
    show_change_link = False
    template = "admin/edit_inline/readonly_tabular.html"

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: under the field it names when the form
    has that field, else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
