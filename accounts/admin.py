from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "phone", "is_staff", "is_analyst", "invite_code")
    list_filter = ("is_staff", "is_superuser", "is_analyst", "is_active")
    search_fields = ("username", "email", "phone", "invite_code")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("phone", "bio", "is_analyst", "invite_code", "invited_by")}),
    )
    raw_id_fields = ("invited_by",)


from accounts.balances import admin as balances_admin  # noqa: E402, F401  (registers its models)
