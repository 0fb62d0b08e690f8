"""The refusals of stock writes (see core.errors)."""

from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound


class StoreNotFound(NotFound):
    default_code = "store_not_found"


class StoreExists(Conflict):
    default_code = "store_exists"


class InsufficientStock(Conflict):
    """A demand for more than is in stock; `shortages` names every line that failed, and the
    body lists them as `errors`."""

    default_code = "insufficient_stock"

    def __init__(self, shortages: list):
        self.shortages = shortages
        text = "; ".join(
            _("item '%(item)s': requested %(requested)s, available %(available)s")
            % {"item": s.item_id, "requested": s.requested, "available": s.available}
            for s in shortages
        )
        super().__init__(
            _("Not enough stock: %(shortages)s.") % {"shortages": text},
            extra={"errors": [shortage.as_dict() for shortage in shortages]},
        )
