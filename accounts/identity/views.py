"""Identity endpoints. Each view validates input, calls one service and shapes the answer."""

from typing import cast

from django.contrib.auth import logout as session_logout
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import selectors, services
from accounts.identity.serializers import (
    AdminUserSerializer,
    DrfTokenKeySerializer,
    DrfTokenSerializer,
    EmailAddressSerializer,
    EmailCodeSentSerializer,
    EmailTokenSerializer,
    InviteActivationSerializer,
    JwtPairSerializer,
    JwtRefreshSerializer,
    MeSerializer,
    PasswordLoginSerializer,
    PhoneCodeSentSerializer,
    PhoneLoginSerializer,
    PhoneVerifySerializer,
    ProfileSerializer,
    RegistrationSerializer,
    SignedOutSerializer,
)
from accounts.identity.throttles import SIGNIN_THROTTLES
from accounts.models import User
from accounts.requests import AuthenticatedRequest
from core.openapi import api_error
from core.permissions import IsOperator

BAD_INPUT = api_error(
    "Bad input; `code` and the field messages say what is wrong.",
    example={"detail": "Wrong code: 4 attempts left.", "code": "invalid_code"},
)
UNAUTHENTICATED = api_error("Not signed in (see the WWW-Authenticate header).")
FORBIDDEN = api_error("Signed in, but this role may not do it.")
THROTTLED = api_error("Too many requests; retry after the `Retry-After` header's seconds.")
DISABLED = api_error("The account is disabled.")
UNAVAILABLE = api_error("The rate limits cannot be checked (Redis away): `throttle_unavailable`.")


class SignInView(APIView):
    """Public sign-in endpoint: no authentication, throttled per IP and per account."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = SIGNIN_THROTTLES
    throttle_group: str
    throttle_account_field: str


# --- phone + SMS code -----------------------------------------------------------------------


class PhoneLoginView(SignInView):
    throttle_group = "phone_login"
    throttle_account_field = "phone"

    @extend_schema(
        tags=["auth: phone"],
        summary="Send a sign-in code by SMS",
        description="Sends a 4-digit code to `phone` (any format, answered in E.164). The SMS "
        "leaves from a background worker, so this answers at once. SMS_BACKEND=console prints "
        "it in the worker's output, SMS_BACKEND=file writes a file into SMS_FILE_PATH. A new "
        "code replaces the previous one and may be requested once a minute, at most "
        "SIGNIN_CODES_PER_DAY times a day (429 `too_many_codes`); a phone locked by too many "
        "wrong codes gets 429 `signin_locked`.",
        request=PhoneLoginSerializer,
        responses={200: PhoneCodeSentSerializer, 400: BAD_INPUT, 429: THROTTLED, 503: UNAVAILABLE},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PhoneLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone = serializer.validated_data["phone"]
        issued = services.request_phone_code(phone=phone)
        body = {"phone": phone, "detail": _("Code sent."), "expires_in": issued.expires_in}
        return Response(PhoneCodeSentSerializer(body).data)


class PhoneVerifyView(SignInView):
    throttle_group = "phone_verify"
    throttle_account_field = "phone"

    @extend_schema(
        tags=["auth: phone"],
        summary="Sign in with the SMS code",
        description="Checks the code; the first sign-in of a phone creates the user (with a "
        "random 6-character invite code). Answers a DRF token. A code lives 5 minutes, works "
        "once and is burned after 5 wrong tries; the 400 answer's `code` says which "
        "(`code_invalid`, `code_expired`, `code_burned`, `code_not_requested`). After "
        "SIGNIN_WRONG_CODES_PER_DAY wrong codes in 24 hours (across codes) the phone is locked: "
        "429 `signin_locked` with `Retry-After`, even for the right code.",
        request=PhoneVerifySerializer,
        responses={
            200: DrfTokenSerializer,
            400: BAD_INPUT,
            403: DISABLED,
            429: THROTTLED,
            503: UNAVAILABLE,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PhoneVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _user, key = services.sign_in_by_phone(
            phone=serializer.validated_data["phone"], code=serializer.validated_data["token"]
        )
        return Response(DrfTokenSerializer({"token": key}).data)


class ProfileView(APIView):
    @extend_schema(
        tags=["profile"],
        summary="My invite profile",
        description="Phone, own invite code, the invite code I activated (or null) and the "
        "phones of the users who activated mine.",
        responses={200: ProfileSerializer, 401: UNAUTHENTICATED},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        user = selectors.profile_of(user_id=request.user.pk)
        return Response(ProfileSerializer(user).data)

    @extend_schema(
        tags=["profile"],
        summary="Activate someone's invite code",
        description="Activates another user's invite code. Refused with 400 when the code does "
        "not exist (`invite_code_not_found`), is my own (`own_invite_code`) or I already "
        "activated one (`invite_code_already_activated`: once, ever). An empty body changes "
        "nothing.",
        request=InviteActivationSerializer,
        responses={200: ProfileSerializer, 400: BAD_INPUT, 401: UNAUTHENTICATED},
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        serializer = InviteActivationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data.get("foreign_invite_code")
        if code is not None:
            services.activate_invite_code(user=request.user, code=code)
        user = selectors.profile_of(user_id=request.user.pk)
        return Response(ProfileSerializer(user).data)


# --- e-mail + code -> JWT -------------------------------------------------------------------


class EmailCodeView(SignInView):
    throttle_group = "email_code"
    throttle_account_field = "email"

    @extend_schema(
        tags=["auth: e-mail"],
        summary="Mail a confirmation code",
        description="Mails a 6-digit confirmation code through Django's EMAIL_BACKEND (console "
        "by default; `filebased` writes into EMAIL_FILE_PATH). Same limits as phone codes.",
        request=EmailAddressSerializer,
        responses={200: EmailCodeSentSerializer, 400: BAD_INPUT, 429: THROTTLED, 503: UNAVAILABLE},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = services.normalize_email(serializer.validated_data["email"])
        issued = services.request_email_code(email=email)
        body = {"email": email, "detail": _("Code sent."), "expires_in": issued.expires_in}
        return Response(EmailCodeSentSerializer(body).data)


class EmailTokenView(SignInView):
    throttle_group = "email_token"
    throttle_account_field = "email"

    @extend_schema(
        tags=["auth: e-mail"],
        summary="Exchange the confirmation code for JWTs",
        description="Checks the code (the first sign-in creates the user) and answers an access "
        "JWT as `token` plus a `refresh` JWT.",
        request=EmailTokenSerializer,
        responses={
            200: JwtPairSerializer,
            400: BAD_INPUT,
            403: DISABLED,
            429: THROTTLED,
            503: UNAVAILABLE,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _user, pair = services.sign_in_by_email(
            email=serializer.validated_data["email"],
            code=serializer.validated_data["confirmation_code"],
        )
        return Response(JwtPairSerializer({"token": pair.access, "refresh": pair.refresh}).data)


class _RefreshTokenView(APIView):
    """The refresh token in the body is the credential; a bad one answers 401."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class JwtRefreshView(_RefreshTokenView):
    @extend_schema(
        tags=["auth: e-mail"],
        summary="Refresh the access JWT",
        description="Answers a new access JWT and a new refresh JWT; the old refresh JWT is "
        "blacklisted (rotation). A blacklisted or expired refresh JWT answers 401.",
        request=JwtRefreshSerializer,
        responses={200: JwtPairSerializer, 400: BAD_INPUT, 401: UNAUTHENTICATED},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = JwtRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.refresh_jwt(refresh=serializer.validated_data["refresh"])
        return Response(JwtPairSerializer({"token": pair.access, "refresh": pair.refresh}).data)


class JwtLogoutView(_RefreshTokenView):
    @extend_schema(
        tags=["auth: e-mail"],
        summary="Sign out (blacklist the refresh JWT)",
        description="Blacklists the refresh JWT: it can no longer be refreshed. An access JWT "
        "already issued stays valid until it expires (JWT_ACCESS_MINUTES).",
        request=JwtRefreshSerializer,
        responses={200: SignedOutSerializer, 400: BAD_INPUT, 401: UNAUTHENTICATED},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = JwtRefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.revoke_jwt(refresh=serializer.validated_data["refresh"])
        return Response({"detail": _("Signed out.")})


class MeView(APIView):
    @extend_schema(
        tags=["profile"],
        summary="My account",
        responses={200: MeSerializer, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        tags=["profile"],
        summary="Edit my account",
        description="Changes `first_name`, `last_name`, `username`, `bio`. `email` (the e-mail "
        "sign-in address) and `role` (set by operators) are read-only.",
        request=MeSerializer,
        responses={200: MeSerializer, 400: BAD_INPUT, 401: UNAUTHENTICATED},
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_user(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


@extend_schema_view(
    list=extend_schema(responses={200: AdminUserSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN}),
    retrieve=extend_schema(
        responses={
            200: AdminUserSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: api_error(""),
        }
    ),
    partial_update=extend_schema(
        responses={
            200: AdminUserSerializer,
            400: BAD_INPUT,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: api_error("No such user."),
        }
    ),
)
@extend_schema(tags=["users (operators)"])
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """All users, for operators only: list (`?search=` by username, e-mail, phone), read, and
    change names, e-mail, bio, the analyst flag and whether the account is active. Another
    user's username or e-mail (what they sign in with) only a superuser may change: 403
    `superuser_required` for other operators."""

    serializer_class = AdminUserSerializer
    permission_classes = (IsAuthenticated, IsOperator)
    filter_backends = (SearchFilter,)
    search_fields = ("username", "email", "phone")
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[User]:
        return selectors.users_for_admin()

    def perform_update(self, serializer):
        services.update_user_as_operator(
            actor=cast(User, self.request.user),  # IsAuthenticated: never anonymous here
            user=serializer.instance,
            **serializer.validated_data,
        )


# --- username + password -> DRF token -------------------------------------------------------


class RegistrationView(SignInView):
    throttle_group = "registration"
    throttle_account_field = "username"

    @extend_schema(
        tags=["auth: password"],
        summary="Register with username and password",
        description="Creates a user (Django's password validators apply) and answers its DRF "
        "token as `key`.",
        request=RegistrationSerializer,
        responses={201: DrfTokenKeySerializer, 400: BAD_INPUT, 429: THROTTLED, 503: UNAVAILABLE},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = RegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _user, key = services.register_with_password(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password1"],
        )
        return Response(DrfTokenKeySerializer({"key": key}).data, status=status.HTTP_201_CREATED)


class PasswordLoginView(SignInView):
    throttle_group = "password_login"
    throttle_account_field = "username"

    @extend_schema(
        tags=["auth: password"],
        summary="Sign in with username and password",
        description="Answers the user's DRF token as `key` (operators sign in here too). "
        "Throttled per IP and per username.",
        request=PasswordLoginSerializer,
        responses={200: DrfTokenKeySerializer, 400: BAD_INPUT, 429: THROTTLED, 503: UNAVAILABLE},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _user, key = services.sign_in_with_password(request=request, **serializer.validated_data)
        return Response(DrfTokenKeySerializer({"key": key}).data)


class PasswordLogoutView(APIView):
    @extend_schema(
        tags=["auth: password"],
        summary="Sign out (delete the DRF token)",
        description="Deletes my DRF token (every client using it is signed out) and ends a "
        "browser session if there is one.",
        request=None,
        responses={200: SignedOutSerializer, 401: UNAUTHENTICATED},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        services.sign_out_token(user=request.user)
        session_logout(request._request)
        return Response({"detail": _("Signed out.")})
