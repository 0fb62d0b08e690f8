"""Receivers of other apps' signals."""

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from residents.selectors import has_residents

if TYPE_CHECKING:
    from billing.models import RentRun

logger = logging.getLogger(__name__)


def _enqueue(run_id: str) -> None:
    from residents.tasks import notify_rent_run

    try:
        notify_rent_run.delay(run_id)
    except Exception:
        # The run is committed; the beat job sends whatever was queued, and an operator can
        # queue this run's notices again (idempotent).
        logger.exception("Could not enqueue the notices of rent run %s", run_id)


def queue_rent_notices_on_commit(sender: object, run: "RentRun", **kwargs: Any) -> None:
    """A rent run completed: notify its flats' residents once the completion is committed.
    A house where nobody has registered gets no task at all: publishing a Celery message cost
    more than the rest of completing a small run (and most houses of a new deployment have no
    residents yet)."""
    if not has_residents(run.house_id):
        return
    run_id = str(run.pk)
    transaction.on_commit(lambda: _enqueue(run_id))
