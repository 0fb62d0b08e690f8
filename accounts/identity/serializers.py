"""Input and output shapes of the identity API (input and output kept apart where they differ)."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.identity import selectors
from accounts.identity.codes import CODE_LENGTHS, Channel
from accounts.identity.phones import normalize_phone
from accounts.models import User


class SignedOutSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PhoneField(serializers.CharField):
    """A phone number, normalised to E.164; a number that cannot exist is refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", "International format, e.g. +79991234567.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code="invalid_phone") from exc


def _code_field_schema(length: int) -> dict[str, Any]:
    return {
        "oneOf": [
            {"type": "integer", "minimum": 10 ** (length - 1), "maximum": 10**length - 1},
            {"type": "string", "pattern": f"^[0-9]{{{length}}}$"},
        ],
        "description": f"The {length}-digit code, as a JSON number or a string.",
    }


class _CodeField(serializers.Field):
    """A one-time code given as a JSON number (the phone sign-in types it `int`) or a string."""

    length: int
    default_error_messages = {"invalid": gettext_lazy("Enter the {length}-digit code.")}

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid", length=self.length)
        value = str(data).strip()
        if len(value) != self.length or not value.isascii() or not value.isdigit():
            self.fail("invalid", length=self.length)
        return value

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field(_code_field_schema(CODE_LENGTHS[Channel.SMS]))
class SmsCodeField(_CodeField):
    length = CODE_LENGTHS[Channel.SMS]


@extend_schema_field(_code_field_schema(CODE_LENGTHS[Channel.EMAIL]))
class EmailCodeField(_CodeField):
    length = CODE_LENGTHS[Channel.EMAIL]


# --- phone ----------------------------------------------------------------------------------


class PhoneLoginSerializer(serializers.Serializer):
    phone = PhoneField()


class CodeSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")


class PhoneCodeSentSerializer(CodeSentSerializer):
    phone = serializers.CharField(help_text="The number in E.164, as the code was sent to it.")


class PhoneVerifySerializer(serializers.Serializer):
    phone = PhoneField()
    token = SmsCodeField(help_text="The 4-digit code from the SMS.")


class DrfTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='DRF token: send it as "Authorization: Token <token>".')


class InviteeSerializer(serializers.Serializer):
    phone = serializers.CharField(allow_null=True)


class ProfileSerializer(serializers.Serializer):
    phone = serializers.CharField(allow_null=True)
    invite_code = serializers.CharField()
    foreign_invite_code = serializers.CharField(
        allow_null=True, help_text="The invite code this user activated, or null."
    )
    activated_your_code = InviteeSerializer(
        source="invitees.all", many=True, help_text="Users who entered this user's invite code."
    )


class InviteActivationSerializer(serializers.Serializer):
    foreign_invite_code = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=32,
        help_text="Another user's invite code; may be activated once, ever. Omit or null "
        "to change nothing.",
    )


# --- e-mail -> JWT --------------------------------------------------------------------------


class EmailAddressSerializer(serializers.Serializer):
    email = serializers.EmailField()


class EmailCodeSentSerializer(CodeSentSerializer):
    email = serializers.EmailField()


class EmailTokenSerializer(serializers.Serializer):
    email = serializers.EmailField()
    confirmation_code = EmailCodeField(help_text="The 6-digit code from the e-mail.")


class JwtPairSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Access JWT: "Authorization: Bearer <token>".')
    refresh = serializers.CharField(help_text="Refresh JWT for /api/v1/auth/token/refresh/.")


class JwtRefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


USERNAME_TAKEN = gettext_lazy("This username is taken.")


class _UsernameUniqueIgnoringCase:
    """`Alice` and `alice` are one username (a LOWER(username) unique index backs this)."""

    instance: Any  # mixed into a ModelSerializer

    def validate_username(self, value: str) -> str:
        exclude = self.instance.pk if self.instance is not None else None
        if selectors.username_taken(value, exclude_pk=exclude):
            raise serializers.ValidationError(USERNAME_TAKEN, code="unique")
        return value


class MeSerializer(_UsernameUniqueIgnoringCase, serializers.ModelSerializer):
    """The signed-in user. `email` is the e-mail sign-in address and `role` is set by
    operators, so neither is writable here."""

    role = serializers.ChoiceField(choices=User.Role.choices, read_only=True)

    class Meta:
        model = User
        fields = ("first_name", "last_name", "username", "bio", "email", "role")
        read_only_fields = ("email", "role")


class AdminUserSerializer(_UsernameUniqueIgnoringCase, serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=User.Role.choices, read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "phone",
            "bio",
            "role",
            "is_analyst",
            "is_active",
            "invite_code",
            "foreign_invite_code",
            "date_joined",
            "last_login",
        )
        read_only_fields = (
            "id",
            "phone",
            "role",
            "invite_code",
            "foreign_invite_code",
            "date_joined",
            "last_login",
        )


# --- username + password --------------------------------------------------------------------


class RegistrationSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": gettext_lazy("Letters, digits and @/./+/-/_ only.")},
    )
    password1 = serializers.CharField(write_only=True, trim_whitespace=False)
    password2 = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        if selectors.username_taken(value):
            raise serializers.ValidationError(USERNAME_TAKEN, code="unique")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs["password1"] != attrs["password2"]:
            raise serializers.ValidationError(
                {"password2": [_("The two passwords differ.")]}, code="password_mismatch"
            )
        return attrs


class PasswordLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False)


class DrfTokenKeySerializer(serializers.Serializer):
    key = serializers.CharField(help_text='DRF token: "Authorization: Token <key>".')
