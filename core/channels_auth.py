"""Websocket authentication shared by every app's consumers.

A client signs in with a DRF token or an access JWT, given (best first):
- as subprotocols `["token", "<key or jwt>"]` (`Sec-WebSocket-Protocol`; browsers can set it:
  `new WebSocket(url, ["token", key])`); the server accepts with the subprotocol `token`;
- in the `Authorization` header (`Token <key>` or `Bearer <jwt>`);
- as the `token` query parameter (kept for old clients; URLs end up in access logs, where
  core.logs redacts it).
Without one, the Django session cookie is used.
"""

from typing import Any
from urllib.parse import ParseResult, parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from core.bodylimit import ASGIApp, Receive, Scope, Send

SUBPROTOCOL = "token"


def _kind(value: str) -> tuple[str, str]:
    # A DRF key is 40 hex characters; a JWT always has two dots.
    return ("jwt" if value.count(".") == 2 else "token", value)


def _from_subprotocols(scope: Scope) -> str | None:
    protocols: list[str] = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL in protocols:
        position = protocols.index(SUBPROTOCOL)
        if position + 1 < len(protocols):
            return protocols[position + 1].strip()
    return None


def accepted_subprotocol(scope: Scope) -> str | None:
    """The subprotocol a consumer must accept with (the client's handshake needs it echoed)."""
    return SUBPROTOCOL if _from_subprotocols(scope) else None


def _credentials(scope: Scope) -> tuple[str, str] | None:
    """(kind, value) from the subprotocols, header or query string; kind: token|jwt."""
    if value := _from_subprotocols(scope):
        return _kind(value)
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    if query.get("token"):
        return _kind(query["token"][0].strip())
    for name, raw in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, value = raw.decode("latin1").strip().partition(" ")
            if scheme.lower() == "token":
                return "token", value.strip()
            if scheme.lower() == "bearer":
                return "jwt", value.strip()
    return None


@database_sync_to_async  # type: ignore[untyped-decorator]  # channels ships no type hints
def user_for_credentials(kind: str, value: str) -> AbstractBaseUser | AnonymousUser:
    """The active user the credentials belong to, or AnonymousUser."""
    if kind == "token":
        from rest_framework.authtoken.models import Token

        token = Token.objects.select_related("user").filter(key=value).first()
        user = token.user if token else None
    else:
        from rest_framework_simplejwt.authentication import JWTAuthentication
        from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

        auth = JWTAuthentication()
        try:
            user = auth.get_user(auth.get_validated_token(value.encode()))
        except (InvalidToken, AuthenticationFailed):
            user = None
    return user if user is not None and user.is_active else AnonymousUser()


class TokenAuthMiddleware(BaseMiddleware):  # type: ignore[misc]  # channels: no type hints
    """Sets scope["user"] from a token when one is given (an invalid one gives AnonymousUser)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        credentials = _credentials(scope)
        if credentials is not None:
            scope = dict(scope, user=await user_for_credentials(*credentials))
        return await super().__call__(scope, receive, send)


def TokenAuthMiddlewareStack(inner: ASGIApp) -> Any:
    """Session auth first, then a token (if present) overrides the user."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class _BrowserOriginValidator(OriginValidator):  # type: ignore[misc]  # channels: no type hints
    """Checks Origin only when there is one.

    Browsers always send Origin, so cross-site pages are still refused; command-line and
    server clients send none and authenticate by token, which a foreign page cannot forge.
    Channels' own validator would refuse them outright.
    """

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return parsed_origin is None or bool(super().valid_origin(parsed_origin))


def AllowedHostsOriginValidator(application: ASGIApp) -> Any:
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return _BrowserOriginValidator(application, allowed_hosts)
