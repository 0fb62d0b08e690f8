"""Admin of users and sign-in codes (models in accounts/models/users.py)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from accounts.models import SignInCode, User
from core.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "phone", "is_staff", "is_analyst", "invite_code")
    list_filter = ("is_staff", "is_superuser", "is_analyst", "is_active")
    search_fields = ("username", "email", "phone", "invite_code")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Role"), {"fields": ("is_analyst",)}),
        (
            _("Profile and invites"),
            {
                "fields": (
                    "phone",
                    "bio",
                    "invite_code",
                    "foreign_invite_code",
                    "invited_by",
                    "invite_activated_at",
                )
            },
        ),
    )
    # Invite codes follow the rules of the API (unique, once ever); the admin only shows them.
    readonly_fields = ("invite_code", "foreign_invite_code", "invited_by", "invite_activated_at")

    # As in the API: only a superuser changes another user's sign-in identifiers or password.
    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.pk != request.user.pk and not request.user.is_superuser:
            fields = (*fields, "username", "email", "phone")
        return fields

    def user_change_password(self, request, id, form_url=""):
        if str(id) != str(request.user.pk) and not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(SignInCode)
class SignInCodeAdmin(ReadOnlyAdmin):
    """Shows who asked for a code and its state; the code itself is not stored."""

    list_display = ("destination", "channel", "issued_at", "expires_at", "attempts", "sent_at")
    list_filter = ("channel",)
    search_fields = ("destination",)
    exclude = ("code_hash",)
