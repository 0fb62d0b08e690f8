"""DRF's token and SimpleJWT's JWT authentication, with the user lookup compiled once.

Same headers, checks and errors as the classes they extend (unknown token or user: 401,
inactive user: 401, SimpleJWT's revocation check); only the per-request ORM compilation of
the lookup is gone (see `core.sqlcache`).
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core.sqlcache import INT_SENTINEL, CompiledLookup


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's class."""

    _lookup: CompiledLookup | None = None

    @classmethod
    def _token_lookup(cls) -> CompiledLookup:
        if cls._lookup is None:
            model = cls.model or authentication.TokenAuthentication().get_model()
            cls._lookup = CompiledLookup(lambda: model.objects.select_related("user"), "key")
        return cls._lookup

    def authenticate_credentials(self, key):
        token = self._token_lookup().get(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class JWTAuthentication(jwt_authentication.JWTAuthentication):
    """`Authorization: Bearer <access JWT>`, as SimpleJWT's class."""

    _lookup: CompiledLookup | None = None

    @classmethod
    def _user_lookup(cls) -> CompiledLookup:
        if cls._lookup is None:
            cls._lookup = CompiledLookup(
                lambda: get_user_model()._default_manager.all(),
                jwt_settings.USER_ID_FIELD,
                sentinel=INT_SENTINEL,
            )
        return cls._lookup

    def get_user(self, validated_token):
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise jwt_authentication.InvalidToken(
                _("Token contained no recognizable user identification")
            ) from exc
        try:
            user = self._user_lookup().get(user_id)
        except (TypeError, ValueError) as exc:  # a claim that is not an id names nobody
            raise exceptions.AuthenticationFailed(
                _("User not found"), code="user_not_found"
            ) from exc
        if user is None:
            raise exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise exceptions.AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of SimpleJWT's class, for this subclass (`jwtAuth`)."""

    target_class = "core.authentication.JWTAuthentication"
