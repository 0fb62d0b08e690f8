from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.permissions import AnyUser

POST_RECEIPTS = "receipts.post_receipts"


def can_post_receipts(user: AnyUser) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(POST_RECEIPTS))


class CanPostReceipts(BasePermission):
    """Points of sale: users holding the `receipts.post_receipts` permission (or superusers)."""

    message = "Only points of sale (users with the post_receipts permission) may post receipts."

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_post_receipts(request.user)
