import secrets
import string
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

# Upper-case letters and digits: a code read aloud or typed on a phone is not case-sensitive.
INVITE_CODE_ALPHABET = string.ascii_uppercase + string.digits
INVITE_CODE_LENGTH = 6
# Free text a user writes about themself; beyond this it is refused (400, and a CHECK).
BIO_MAX_LENGTH = 2000


def new_invite_code() -> str:
    """A random invite code that no user holds yet (the UNIQUE index is the final guard)."""
    while True:
        code = "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))
        if not User.objects.filter(invite_code=code).exists():
            return code


class UserManager(DjangoUserManager):
    def _create_user_object(self, username, email, password, **extra_fields):
        # createsuperuser and create_user check the username's case-insensitive uniqueness
        # here: a ValidationError is a clean "taken" message, an IntegrityError a traceback.
        # Django 5.2's hook shared by create_user and create_superuser; not in the stubs yet.
        user = super()._create_user_object(  # type: ignore[misc]
            username, email, password, **extra_fields
        )
        if self.filter(username__iexact=user.username).exists():
            raise ValidationError("That username is already taken.", code="unique")
        return user


class User(AbstractUser):
    """One user model for every sign-in flow; `username` stays the login field.

    Phone and e-mail are optional but unique when set. Roles: staff/superuser = operator,
    `is_analyst` = may read receipts analytics (the original receipts service's "Аналитик"
    checkbox).
    Every user has an invite code (given on first save, never changed afterwards) and may
    activate one foreign code, once ever.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", _("Operator")
        ANALYST = "analyst", _("Analyst")
        USER = "user", _("User")

    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(
        max_length=20,
        null=True,
        blank=True,
        unique=True,
        help_text=_("E.164, e.g. +79991234567."),
        verbose_name=_("phone"),
    )
    bio = models.TextField(blank=True, max_length=BIO_MAX_LENGTH, verbose_name=_("bio"))
    is_analyst = models.BooleanField(
        _("Analyst"), default=False, help_text=_("May read receipts analytics.")
    )
    invite_code = models.CharField(
        max_length=6, null=True, blank=True, unique=True, verbose_name=_("invite code")
    )
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitees",
        help_text=_("The user whose invite code this user activated."),
        verbose_name=_("invited by"),
    )
    # Kept apart from `invited_by` so that "once ever" still holds if the inviter is deleted.
    foreign_invite_code = models.CharField(
        max_length=6,
        null=True,
        blank=True,
        help_text=_("The invite code this user activated (at most one, ever)."),
        verbose_name=_("activated invite code"),
    )
    invite_activated_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("invite activated")
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # not in the stubs
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="uniq_user_email_when_set"
            ),
            # `Alice` and `alice` would be two accounts a person (or an operator) mixes up.
            models.UniqueConstraint(
                Lower("username"),
                name="uniq_user_username_ci",
                violation_error_code="unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("bio"), BIO_MAX_LENGTH), name="user_bio_length"
            ),
            models.CheckConstraint(
                condition=Q(invited_by__isnull=True) | ~Q(invited_by=F("id")),
                name="user_not_invited_by_self",
            ),
            models.CheckConstraint(
                condition=Q(invited_by__isnull=True) | Q(foreign_invite_code__isnull=False),
                name="user_inviter_has_code",
            ),
            models.CheckConstraint(
                condition=Q(foreign_invite_code__isnull=True)
                | ~Q(foreign_invite_code=F("invite_code")),
                name="user_foreign_code_not_own",
            ),
        ]

    def save(self, *args, **kwargs):
        if not self.invite_code:
            self.invite_code = new_invite_code()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "invite_code"}
        super().save(*args, **kwargs)

    @property
    def role(self) -> str:
        if self.is_superuser or self.is_staff:
            return self.Role.ADMIN
        if self.is_analyst:
            return self.Role.ANALYST
        return self.Role.USER


class SignInCode(models.Model):
    """The one live sign-in code of a phone number or an e-mail address.

    One row per (channel, destination): issuing a new code overwrites the old one, which is
    how "a new code invalidates the old" holds without a cleanup job. Only an HMAC of the code
    is stored; the plain code exists in the outgoing message alone.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", _("E-mail")

    channel = models.CharField(max_length=5, choices=Channel.choices, verbose_name=_("channel"))
    destination = models.CharField(
        max_length=254,
        help_text=_("E.164 phone or lower-case e-mail."),
        verbose_name=_("destination"),
    )
    code_hash = models.CharField(max_length=64, verbose_name=_("code hash"))
    issued_at = models.DateTimeField(verbose_name=_("issued"))
    expires_at = models.DateTimeField(verbose_name=_("expires"))
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Wrong tries so far."), verbose_name=_("attempts")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used"))

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "destination"], name="uniq_signin_code_destination"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("issued_at")), name="signin_code_expires_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email"]), name="signin_code_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.destination}"


class SignInEvent(models.Model):
    """A code sent to, or a wrong code tried for, a phone number or e-mail address.

    The daily caps (SIGNIN_CODES_PER_DAY, SIGNIN_WRONG_CODES_PER_DAY) count these rows over the
    last 24 hours, whatever code they belonged to; rows older than a day are purged.
    """

    class Kind(models.TextChoices):
        CODE_SENT = "code_sent", "Code sent"
        WRONG_CODE = "wrong_code", "Wrong code"

    channel = models.CharField(max_length=5, choices=SignInCode.Channel.choices)
    destination = models.CharField(max_length=254, help_text="E.164 phone or lower-case e-mail.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["channel", "destination", "kind", "at"], name="signin_event_by_dest"
            ),
            models.Index(fields=["at"], name="signin_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel}:{self.destination} at {self.at:%Y-%m-%d %H:%M:%S}"
