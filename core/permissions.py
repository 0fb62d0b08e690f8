"""Role checks shared by every app. Roles add up: a superuser may do anything a role allows."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_operator(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def is_analyst(user) -> bool:
    return bool(
        user and user.is_authenticated and (user.is_superuser or getattr(user, "is_analyst", False))
    )


class IsOperator(BasePermission):
    message = "Only operators (staff users) may do this."

    def has_permission(self, request, view) -> bool:
        return is_operator(request.user)


class IsOperatorOrReadOnly(BasePermission):
    """Any signed-in user may read; only operators may write."""

    message = "Only operators (staff users) may change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_operator(request.user)


class IsAnalyst(BasePermission):
    message = "Only analysts may read analytics."

    def has_permission(self, request, view) -> bool:
        return is_analyst(request.user)
