"""Role checks shared by every app. Roles add up: a superuser may do anything a role allows."""

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

# request.user: the project's User or AnonymousUser (core cannot import accounts' model).
AnyUser = Any


def is_operator(user: AnyUser) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def is_analyst(user: AnyUser) -> bool:
    return bool(
        user and user.is_authenticated and (user.is_superuser or getattr(user, "is_analyst", False))
    )


class IsOperator(BasePermission):
    message = "Only operators (staff users) may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_operator(request.user)


class IsOperatorOrReadOnly(BasePermission):
    """Any signed-in user may read; only operators may write."""

    message = "Only operators (staff users) may change this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_operator(request.user)


class IsAnalyst(BasePermission):
    message = "Only analysts may read analytics."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_analyst(request.user)


class HeaderAuthForSafeMethods(BasePermission):
    """For an endpoint whose GET changes data (kept for old clients): GET/HEAD run only when the
    credentials came in the Authorization header (Token or Bearer). A browser attaches the
    session cookie to any cross-site `<img>`, and Django checks CSRF on unsafe methods only."""

    message = (
        "A GET here changes data, so it needs an Authorization header (Token or Bearer); "
        "with a session use POST."
    )
    code = "header_auth_required"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in SAFE_METHODS:
            return True
        return isinstance(request.successful_authenticator, TokenAuthentication | JWTAuthentication)
