"""The tokens a sign-in hands out: DRF's token and simplejwt's JWT pair, behind one module.

Services call these; token errors come back as `accounts.identity.errors.InvalidToken`.
"""

from dataclasses import dataclass

from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.identity.errors import InvalidToken
from accounts.models import User

JTI_CLAIM = jwt_settings.JTI_CLAIM
USER_ID_CLAIM = jwt_settings.USER_ID_CLAIM


@dataclass(frozen=True)
class JwtPair:
    access: str
    refresh: str


def drf_token(user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def delete_drf_token(user: User) -> None:
    Token.objects.filter(user=user).delete()


def jwt_pair(user: User) -> JwtPair:
    refresh = RefreshToken.for_user(user)
    return JwtPair(access=str(refresh.access_token), refresh=str(refresh))


def rotate_refresh_token(refresh: str) -> JwtPair:
    """Blacklist `refresh` and return a new pair, under the refresh token's row lock."""
    try:
        # The stubs miss the encoded-string form the class takes.
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # checks signature, expiry, type, blacklist
    except TokenError as exc:
        raise InvalidToken(str(exc.args[0])) from exc
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update().filter(jti=token[JTI_CLAIM]).first()
        )
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise InvalidToken("Token is blacklisted")
        user = User.objects.filter(pk=token.get(USER_ID_CLAIM)).first()
        if user is None or not user.is_active:
            raise InvalidToken("No active account found for the given token.")
        BlacklistedToken.objects.create(token=outstanding)
        return jwt_pair(user)


def blacklist_refresh_token(refresh: str) -> None:
    try:
        RefreshToken(refresh).blacklist()  # type: ignore[arg-type]  # an encoded token, as above
    except TokenError as exc:
        raise InvalidToken(str(exc.args[0])) from exc
