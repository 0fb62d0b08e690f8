"""Rent run execution: claim, committed batches, publish, resume.

A run's row is its saved progress. Each batch of charges and the cursor that says "done up to
flat N" are committed together under the run's row lock, so a worker killed at any point
leaves a consistent state, a second delivery of the same task waits on the lock and then
continues from the cursor, and no flat is charged twice (unique flat + month, upsert).

billing.tasks runs this module; it imports neither billing.services nor billing.tasks (the
caller that re-enqueues stalled runs passes the way to enqueue one).
"""

import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import sql
from billing.models import Charge, RentRun, StagedLine
from billing.signals import rent_run_completed
from housing.models import Tariff

logger = logging.getLogger(__name__)

Status = RentRun.Status


def execute_run(
    *, run_id: uuid.UUID | str, batch_size: int | None = None, pause: float | None = None
) -> None:
    """Run (or continue) a rent calculation in committed batches. Safe to call twice, also
    concurrently: each batch re-reads the cursor under the run's row lock, and the batch's
    lines, the cursor and the running sum commit together."""
    batch_size = batch_size or settings.RENT_BATCH_SIZE
    pause = settings.RENT_BATCH_PAUSE_SECONDS if pause is None else pause
    claimed = False
    while True:
        with transaction.atomic():
            run, facts = sql.lock_run(run_id)
            if run is None or run.status not in RentRun.ACTIVE:
                return
            if not claimed:
                claimed = True
                if not _claim(run, facts=facts):
                    return
            # Writes the lines and saves the run (claim, cursor, sum; completion of a run that
            # is not a recalculation) in one statement.
            batch = sql.write_next_batch(run=run, limit=batch_size)
            finished = batch.flats < batch_size
            if finished and run.status != Status.COMPLETED:
                # Otherwise nothing is left over from an earlier failed run of the month: it
                # started before this one, so every flat it charged (and that still exists) is
                # within this run's work list (id <= max_flat_id) and was overwritten by the
                # upsert.
                _publish_recalculation(run)
            if finished:
                # Receivers act after commit (e.g. residents' notices): see billing.signals.
                rent_run_completed.send(sender=RentRun, run=run)
                logger.info(
                    "Rent run %s completed: house %s, %d-%02d, %d flats, %s",
                    run.pk, run.house_id, run.year, run.month, run.done_flats, run.result,
                )  # fmt: skip
                return
        if pause:
            time.sleep(pause)


def _fail(run: RentRun, error: str) -> None:
    run.status = Status.FAILED
    run.error = error
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
    logger.warning("Rent run %s failed: %s", run.pk, error)


def _claim(run: RentRun, *, facts: sql.MonthFacts | None = None) -> bool:
    """Count this execution as an attempt and, on the first one, fix the run's tariffs and
    work list (`facts` when the caller read them with the lock). False when the run failed
    instead. The caller holds the run's lock."""
    run.attempts += 1
    if run.attempts > settings.RENT_MAX_ATTEMPTS:
        _fail(run, f"Gave up after {settings.RENT_MAX_ATTEMPTS} attempts.")
        return False
    now = timezone.now()
    if run.status == Status.PENDING:
        if facts is None:
            facts = sql.house_month_facts(house_id=run.house_id, year=run.year, month=run.month)
        water, upkeep = facts["water"], facts["upkeep"]
        if water is None or upkeep is None:
            prices = ((Tariff.Kind.WATER, water), (Tariff.Kind.UPKEEP, upkeep))
            missing = [kind for kind, price in prices if price is None]
            _fail(
                run,
                f"No {' and no '.join(missing)} tariff in force on "
                f"{run.year}-{run.month:02d}-01 for this house or globally.",
            )
            return False
        run.water_tariff, run.upkeep_tariff = water, upkeep
        run.total_flats, run.max_flat_id = facts["flats_count"], facts["max_flat_id"]
        run.status = Status.IN_PROGRESS
        run.started_at = now
    run.heartbeat_at = now
    return True


def _publish_recalculation(run: RentRun) -> None:
    """Replace the month's charges with the run's staged lines and complete it (caller holds
    the lock). Charges are updated in place (an upsert), so a charge keeps its id and what was
    paid on it; those of flats the run no longer covers are removed."""
    sql.publish_staged_lines(run)
    Charge.objects.filter(house_id=run.house_id, year=run.year, month=run.month).exclude(
        run_id=run.pk
    ).delete()
    StagedLine.objects.filter(run=run).delete()
    run.result = run.result or Decimal(0)
    run.status = Status.COMPLETED
    run.error = ""
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["result", "status", "error", "finished_at", "heartbeat_at"])


def note_run_error(*, run_id: uuid.UUID | str, error: str) -> None:
    """Show why an execution broke off (the run stays active: resume_stalled_runs retries it,
    up to RENT_MAX_ATTEMPTS)."""
    RentRun.objects.filter(pk=run_id, status__in=RentRun.ACTIVE).update(error=error[:2000])


def resume_stalled_runs(
    *, enqueue: Callable[[uuid.UUID], None], older_than: timedelta | None = None
) -> list[uuid.UUID]:
    """Re-enqueue (with `enqueue`, inside this transaction) the active runs whose progress has
    not moved for a while (their worker died, or the message was lost). A run still alive is
    not harmed: the copies share the row lock."""
    if older_than is None:
        older_than = timedelta(seconds=settings.RENT_STALLED_AFTER_SECONDS)
    now = timezone.now()
    cutoff = now - older_than
    with transaction.atomic():
        stalled = list(
            RentRun.objects.select_for_update(skip_locked=True)
            .filter(status__in=RentRun.ACTIVE)
            .filter(
                Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
            )
            .values_list("pk", flat=True)
        )
        # Bump the heartbeat so the next beat does not enqueue the same run again meanwhile.
        RentRun.objects.filter(pk__in=stalled).update(heartbeat_at=now)
        for run_id in stalled:
            enqueue(run_id)
    if stalled:
        logger.info("Re-enqueued %d stalled rent runs", len(stalled))
    return stalled
