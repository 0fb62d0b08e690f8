"""The refusals of residents' writes and reads (see core.errors)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound


class NoSuchFlatCode(NotFound):
    default_code = "no_such_code"
    default_message = _("No such flat code.")


class NotYours(NotFound):
    """A flat, meter, reading or charge that is not in the user's flats."""


class OutsideWindow(Conflict):
    """A reading outside the month's window; the body carries the `window`."""

    default_code = "outside_reading_window"


class ResidentConflict(Conflict):
    """A resident's write the state refuses; the code says why (`code_used`, `charge_paid`...)."""
