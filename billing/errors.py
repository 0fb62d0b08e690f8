"""The refusals of rent runs (see core.errors)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, NotFound


class NoSuchRun(NotFound):
    default_message = "No such task."


class RunCompleted(Conflict):
    default_code = "run_completed"
    default_message = _("This run is completed; start a new one with recalculate=true.")


class RunActive(Conflict):
    default_code = "run_active"
    default_message = _("Another run of this house and month is in progress.")
