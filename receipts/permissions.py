from rest_framework.permissions import BasePermission

POST_RECEIPTS = "receipts.post_receipts"


def can_post_receipts(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(POST_RECEIPTS))


class CanPostReceipts(BasePermission):
    """Points of sale: users holding the `receipts.post_receipts` permission (or superusers)."""

    message = "Only points of sale (users with the post_receipts permission) may post receipts."

    def has_permission(self, request, view) -> bool:
        return can_post_receipts(request.user)
