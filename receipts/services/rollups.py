"""Hourly rollups recomputed from the counted purchases."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from receipts import journal, sql
from receipts.hours import hour_of

logger = logging.getLogger(__name__)

RECENT_HOURS = 3


@dataclass
class RollupResult:
    since: datetime
    until: datetime
    place_hours: int
    category_hours: int
    seconds: float


def rebuild_rollups(*, since: datetime, until: datetime | None = None) -> RollupResult:
    """Recompute the hourly rollups for the hours starting in [since, until) from purchases.

    Rows of those hours are replaced in one transaction, so a rerun gives the same rows and a
    backfill of any range is harmless. `since` is floored to its hour; `until` defaults to the
    end of the current hour.
    """
    started = time.monotonic()
    since = hour_of(since)
    if until is None:
        until = hour_of(timezone.now()) + timedelta(hours=1)
    with transaction.atomic():
        sql.lock_rollups(exclusive=True)
        place_hours, category_hours = sql.rebuild_rollups(since=since, until=until)
    result = RollupResult(since, until, place_hours, category_hours, time.monotonic() - started)
    journal.write(
        [
            journal.journal_record(
                event="rollup",
                outcome="done",
                since=since.isoformat(),
                until=until.isoformat(),
                place_hours=place_hours,
                category_hours=category_hours,
                seconds=round(result.seconds, 3),
            )
        ]
    )
    return result


def rollup_recent_hours(*, hours: int = RECENT_HOURS, now: datetime | None = None):
    """The hourly job: recompute the last `hours` hours and the current one."""
    now = now or timezone.now()
    current = hour_of(now)
    return rebuild_rollups(
        since=current - timedelta(hours=hours), until=current + timedelta(hours=1)
    )
