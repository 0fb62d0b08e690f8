"""Who may change stock: operators, and members of the storekeeper group."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from core.permissions import AnyUser, is_operator

STOCK_PERMISSION = "stores.operate_stock"


def can_operate_stock(user: AnyUser) -> bool:
    return is_operator(user) or bool(
        user and user.is_authenticated and user.has_perm(STOCK_PERMISSION)
    )


class CanOperateStockOrReadOnly(BasePermission):
    """Any signed-in user reads stock; writes need the stock permission."""

    message = "Only operators and storekeepers may change stock."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return can_operate_stock(request.user)
