"""Token and JWT authentication with the user lookup cached briefly in the shared cache.

Every API request looked its user up in the database (a query the ORM compiles anew each
time: about a quarter of a transfer's Python, plus a round trip). The user (and, for a DRF
token, the token) is kept in the cache (Redis outside the quick start, so every process sees
the same entries) for AUTH_USER_CACHE_SECONDS, and dropped as soon as it changes:

- a user saved (profile, password, deactivation, staff flags) or deleted drops the user's
  entries, at once and again after the commit (a request between the two may have cached the
  row as it was before the commit);
- a token saved or deleted (sign-out, rotation) drops the token's entry;
- code that changes users with `QuerySet.update()` (no signals) calls `forget_user()`.

A cache that does not answer is skipped: the lookup goes to the database as before. With
Redis the entries go through one client per process: Django's cache builds a new Redis client
object for every call, which cost more CPU than the query it saves (docs/performance.md).
"""

import functools
import hashlib
import logging
import pickle
import time
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token as JWTToken

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

_MISSING = object()


def _ttl() -> int:
    return int(settings.AUTH_USER_CACHE_SECONDS)


def _token_key(key: str) -> str:
    # The token itself is a credential: the cache holds only its digest.
    return "auth:token:" + hashlib.sha256(key.encode()).hexdigest()


def _user_key(user_id: int | str) -> str:
    return f"auth:user:{user_id}"


@functools.cache
def _redis(url: str) -> "redis.Redis":
    import redis

    # Thread-safe (a connection pool); the same fail-fast timeouts as the cache's.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def _full_key(key: str) -> str:
    return cache.make_key(key)  # the cache's prefix and version: one namespace for both ways


def _get(key: str) -> Any:
    try:
        if settings.REDIS_URL:
            # A synchronous client: redis-py's stubs type its answers as "maybe awaitable".
            raw = cast(bytes | None, _redis(settings.REDIS_URL).get(_full_key(key)))
            return _MISSING if raw is None else pickle.loads(raw)  # noqa: S301  our own cache entry
        return cache.get(key, _MISSING)
    except Exception:  # a cache down must not take authentication with it
        logger.warning("auth cache unavailable (get)", exc_info=True)
        return _MISSING


def _set(key: str, value: object) -> None:
    try:
        if settings.REDIS_URL:
            _redis(settings.REDIS_URL).set(_full_key(key), pickle.dumps(value), ex=_ttl())
        else:
            cache.set(key, value, _ttl())
    except Exception:
        logger.warning("auth cache unavailable (set)", exc_info=True)


def _delete(keys: list[str]) -> None:
    def drop() -> None:
        try:
            if settings.REDIS_URL:
                _redis(settings.REDIS_URL).delete(*(_full_key(k) for k in keys))
            else:
                cache.delete_many(keys)
        except Exception:
            logger.warning("auth cache unavailable (delete)", exc_info=True)

    drop()
    transaction.on_commit(drop, robust=True)


def forget_user(user_id: int | str, token_keys: list[str] | None = None) -> None:
    """Drop the cached lookups of this user (its JWT entry and its DRF token's)."""
    if token_keys is None:
        token_keys = list(Token.objects.filter(user_id=user_id).values_list("key", flat=True))
    _delete([_user_key(user_id), *(_token_key(k) for k in token_keys)])


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token ...`, the token and its user cached (see the module doc)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        if _ttl() <= 0:
            return super().authenticate_credentials(key)
        token = _get(_token_key(key))
        if token is _MISSING:
            token = Token.objects.select_related("user").filter(key=key).first()
            if token is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            _set(_token_key(key), token)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


@functools.lru_cache(maxsize=4096)
def _verified_jwt(raw_token: bytes) -> JWTToken:
    """The access token, its signature and claims checked once per process (errors raise and
    are not cached). Access tokens are never blacklisted, so what decides is the expiry, which
    `get_validated_token` checks on every use."""
    return JWTAuthentication.get_validated_token(JWTAuthentication(), raw_token)


class CachedJWTAuthentication(JWTAuthentication):
    """SimpleJWT's `Authorization: Bearer ...`, the user cached (see the module doc), and a
    token already verified by this process not decoded again until it expires."""

    def get_validated_token(self, raw_token: bytes) -> JWTToken:
        token = _verified_jwt(bytes(raw_token))
        exp = token.get("exp")
        if exp is None or exp <= time.time():
            return super().get_validated_token(raw_token)  # raises: expired
        return token

    def get_user(self, validated_token: JWTToken) -> Any:
        if _ttl() <= 0 or jwt_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        if user_id is None:
            return super().get_user(validated_token)  # raises its own error
        key = _user_key(user_id)
        user = _get(key)
        if user is _MISSING:
            user = super().get_user(validated_token)  # not found / inactive: raises
            _set(key, user)
        elif jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user


@receiver(post_save, sender=get_user_model(), dispatch_uid="auth_cache_user_saved")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="auth_cache_user_deleted")
def _user_changed(sender: type[Any], instance: Any, **kwargs: object) -> None:
    forget_user(instance.pk)


@receiver(post_save, sender=Token, dispatch_uid="auth_cache_token_saved")
@receiver(post_delete, sender=Token, dispatch_uid="auth_cache_token_deleted")
def _token_changed(sender: type[Token], instance: Token, **kwargs: object) -> None:
    _delete([_token_key(instance.key)])


class CachedJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of SimpleJWT's class, for this subclass (same `jwtAuth`)."""

    target_class = "core.auth.CachedJWTAuthentication"
