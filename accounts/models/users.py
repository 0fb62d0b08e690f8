from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """One user model for every sign-in flow; `username` stays the login field.

    Phone and e-mail are optional but unique when set. Roles: staff/superuser = operator,
    `is_analyst` = may read receipts analytics (seed 003's "Аналитик" checkbox).
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "Operator"
        ANALYST = "analyst", "Analyst"
        USER = "user", "User"

    email = models.EmailField("email address", blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, unique=True)
    bio = models.TextField(blank=True)
    is_analyst = models.BooleanField(
        "Аналитик", default=False, help_text="May read receipts analytics."
    )
    invite_code = models.CharField(max_length=6, null=True, blank=True, unique=True)
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitees",
        help_text="The user whose invite code this user activated.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="uniq_user_email_when_set"
            )
        ]

    @property
    def role(self) -> str:
        if self.is_superuser or self.is_staff:
            return self.Role.ADMIN
        if self.is_analyst:
            return self.Role.ANALYST
        return self.Role.USER
