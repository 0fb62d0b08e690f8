"""The refusals of rent runs (see core.errors)."""

from django.utils.functional import lazystr
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound


class NoSuchRun(NotFound):
    # Not translated: the compatible API's wording. A lazy string, as NotFound's message is.
    default_message = lazystr("No such task.")


class RunCompleted(Conflict):
    default_code = "run_completed"
    default_message = _("This run is completed; start a new one with recalculate=true.")


class RunActive(Conflict):
    default_code = "run_active"
    default_message = _("Another run of this house and month is in progress.")
