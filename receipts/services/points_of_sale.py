"""Which places a point of sale may post receipts for (operators assign them)."""

from receipts.models import PointOfSalePlace


def assign_place(*, user, place_code: str, by=None) -> tuple[PointOfSalePlace, bool]:
    """Let `user` post receipts for `place_code`; (assignment, created). Idempotent."""
    return PointOfSalePlace.objects.get_or_create(
        user=user, place_code=place_code, defaults={"assigned_by": by}
    )


def unassign_place(*, user, place_code: str) -> bool:
    """Withdraw the place; False when it was not assigned."""
    deleted, _ = PointOfSalePlace.objects.filter(user=user, place_code=place_code).delete()
    return bool(deleted)
