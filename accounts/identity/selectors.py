"""Reads for the identity API."""

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower

from accounts.models import User


def profile_of(*, user_id: int) -> User:
    """The user with `activated_your_code` (users who entered this user's code) prefetched."""
    invitees = User.objects.only("id", "phone", "invited_by_id").order_by("invite_activated_at")
    return User.objects.prefetch_related(Prefetch("invitees", queryset=invitees)).get(pk=user_id)


def users_for_admin() -> QuerySet[User]:
    """Every user, newest first (the view adds `?search=` and pagination)."""
    return User.objects.order_by("-date_joined", "-id")


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    """Whether another user has this username in any letter case (uses the LOWER index)."""
    users = User.objects.alias(username_ci=Lower("username")).filter(username_ci=username.lower())
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()
