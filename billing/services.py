"""Rent runs: start, execute in committed batches, resume, publish.

A run's row is its saved progress. Each batch of charges and the cursor that says "done up to
flat N" are committed together under the run's row lock, so a worker killed at any point
leaves a consistent state, a second delivery of the same task waits on the lock and then
continues from the cursor, and no flat is charged twice (unique flat + month, upsert).
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.calculation import calculate_next_batch
from billing.errors import RunActive, RunCompleted
from billing.models import Charge, RentRun, StagedLine
from billing.signals import rent_run_completed
from housing.models import House, Tariff
from housing.periods import validate_month
from housing.selectors import house_month_facts, house_month_facts_sql, month_facts

logger = logging.getLogger(__name__)

Status = RentRun.Status


def _enqueue(run_id) -> None:
    transaction.on_commit(lambda: _send(run_id))


def _send(run_id) -> None:
    from billing.tasks import calculate_rent

    try:
        calculate_rent.delay(str(run_id))
    except Exception:
        # The run is committed and PENDING: billing.resume_stalled_runs sends it again later.
        logger.exception("Could not enqueue rent run %s; the beat job will retry", run_id)


def start_rent_run(
    *, house: House, year: int, month: int, recalculate: bool = False, user=None
) -> tuple[RentRun, bool]:
    """Start calculating a house's rent for a month; returns (run, created).

    A run already active for that house and month is returned instead of a second one, and so
    is the completed one unless `recalculate` is asked for: then a new run computes the lines
    aside and replaces the month's charges in one transaction when it completes.
    """
    validate_month(year, month)
    with transaction.atomic():
        # One start at a time per house: the checks below and the insert cannot interleave.
        House.objects.select_for_update().filter(pk=house.pk).values_list("pk").get()
        runs = RentRun.objects.filter(house=house, year=year, month=month)
        active = runs.filter(status__in=RentRun.ACTIVE).first()
        if active is not None:
            return active, False
        completed = runs.filter(status=Status.COMPLETED).order_by("-finished_at").first()
        if completed is not None and not recalculate:
            return completed, False
        run = RentRun.objects.create(
            house=house,
            year=year,
            month=month,
            recalculate=completed is not None,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        _enqueue(run.pk)
    return run, True


def _fail(run: RentRun, error: str) -> None:
    run.status = Status.FAILED
    run.error = error
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
    logger.warning("Rent run %s failed: %s", run.pk, error)


def _claim(run: RentRun, *, facts: dict | None = None) -> bool:
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
            facts = house_month_facts(house_id=run.house_id, year=run.year, month=run.month)
        missing = [kind for kind in Tariff.Kind.values if facts[kind] is None]
        if missing:
            _fail(
                run,
                f"No {' and no '.join(missing)} tariff in force on "
                f"{run.year}-{run.month:02d}-01 for this house or globally.",
            )
            return False
        run.water_tariff = facts[Tariff.Kind.WATER]
        run.upkeep_tariff = facts[Tariff.Kind.UPKEEP]
        run.total_flats, run.max_flat_id = facts["flats_count"], facts["max_flat_id"]
        run.status = Status.IN_PROGRESS
        run.started_at = now
    run.heartbeat_at = now
    return True


_PUBLISHED_COLUMNS = (
    "run_id",
    "status",
    "area",
    "water_consumption",
    "water_tariff",
    "upkeep_tariff",
    "water_cost",
    "upkeep_cost",
    "total",
)


def _publish_recalculation(run: RentRun) -> None:
    """Replace the month's charges with the run's staged lines and complete it (caller holds
    the lock). Charges are updated in place (an upsert), so a charge keeps its id and what was
    paid on it; those of flats the run no longer covers are removed."""
    columns = ", ".join(["flat_id", "house_id", "year", "month", *_PUBLISHED_COLUMNS])
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in _PUBLISHED_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Charge._meta.db_table} ({columns}) "
            f"SELECT {columns} FROM {StagedLine._meta.db_table} WHERE run_id = %s "
            f"ON CONFLICT (flat_id, year, month) DO UPDATE SET {updates}",
            [RentRun._meta.pk.get_db_prep_value(run.pk, connection)],
        )
    Charge.objects.filter(house_id=run.house_id, year=run.year, month=run.month).exclude(
        run_id=run.pk
    ).delete()
    StagedLine.objects.filter(run=run).delete()
    run.result = run.result or 0
    run.status = Status.COMPLETED
    run.error = ""
    run.finished_at = run.heartbeat_at = timezone.now()
    run.save(update_fields=["result", "status", "error", "finished_at", "heartbeat_at"])


def _locked_run(run_id) -> tuple[RentRun | None, dict | None]:
    """The run under its row lock and, when it is still PENDING, the facts its claim fixes
    (house_month_facts), in one round trip on PostgreSQL. Plain SQL: on the per-batch path,
    compiling the ORM's query took longer than running it."""
    pk = RentRun._meta.pk
    params = [pk.get_db_prep_value(pk.to_python(run_id), connection)]
    table = RentRun._meta.db_table
    if connection.vendor != "postgresql":
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = f"SELECT * FROM {table} WHERE {pk.column} = %s{lock}"
        return next(iter(RentRun.objects.raw(sql, params)), None), None
    # The facts' subqueries only run for a PENDING run (a one-time filter on the outer row).
    facts = house_month_facts_sql(house="r.house_id", first_day="make_date(r.year, r.month, 1)")
    sql = (
        f"SELECT r.*, facts.water_price AS facts_water_price, "
        f"facts.upkeep_price AS facts_upkeep_price, facts.flats_count AS facts_flats_count, "
        f"facts.max_flat_id AS facts_max_flat_id, facts.flats_count IS NOT NULL AS has_facts "
        f"FROM {table} r LEFT JOIN LATERAL ({facts} WHERE r.status = '{Status.PENDING.value}') "
        f"facts ON true WHERE r.{pk.column} = %s FOR UPDATE OF r"
    )
    run = next(iter(RentRun.objects.raw(sql, params)), None)
    if run is None or not run.has_facts:
        return run, None
    return run, month_facts(
        water_price=run.facts_water_price,
        upkeep_price=run.facts_upkeep_price,
        flats_count=run.facts_flats_count,
        max_flat_id=run.facts_max_flat_id,
    )


def execute_run(*, run_id, batch_size: int | None = None, pause: float | None = None) -> None:
    """Run (or continue) a rent calculation in committed batches. Safe to call twice, also
    concurrently: each batch re-reads the cursor under the run's row lock, and the batch's
    lines, the cursor and the running sum commit together."""
    batch_size = batch_size or settings.RENT_BATCH_SIZE
    pause = settings.RENT_BATCH_PAUSE_SECONDS if pause is None else pause
    claimed = False
    while True:
        with transaction.atomic():
            run, facts = _locked_run(run_id)
            if run is None or run.status not in RentRun.ACTIVE:
                return
            if not claimed:
                claimed = True
                if not _claim(run, facts=facts):
                    return
            # Writes the lines and saves the run (claim, cursor, sum; completion of a run that
            # is not a recalculation) in one statement.
            batch = calculate_next_batch(run=run, limit=batch_size)
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


def note_run_error(*, run_id, error: str) -> None:
    """Show why an execution broke off (the run stays active: resume_stalled_runs retries it,
    up to RENT_MAX_ATTEMPTS)."""
    RentRun.objects.filter(pk=run_id, status__in=RentRun.ACTIVE).update(error=error[:2000])


def resume_stalled_runs(*, older_than: timedelta | None = None) -> list:
    """Re-enqueue active runs whose progress has not moved for a while (their worker died, or
    the message was lost). A run still alive is not harmed: the copies share the row lock."""
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
            _enqueue(run_id)
    if stalled:
        logger.info("Re-enqueued %d stalled rent runs", len(stalled))
    return stalled


def restart_run(*, run: RentRun) -> RentRun:
    """Continue an active run now (re-enqueue it), or retry a failed one from the start.
    A completed run is final: start a new one with `recalculate` instead."""
    with transaction.atomic():
        run = RentRun.objects.select_for_update().get(pk=run.pk)
        if run.status == Status.COMPLETED:
            raise RunCompleted()
        if run.status == Status.FAILED:
            StagedLine.objects.filter(run=run).delete()
            run.status = Status.PENDING
            run.error = ""
            run.attempts = 0
            run.done_flats = run.total_flats = run.last_flat_id = run.max_flat_id = 0
            run.needs_reading_flats = 0
            run.result = None
            run.started_at = run.finished_at = None
            run.recalculate = RentRun.objects.filter(
                house_id=run.house_id, year=run.year, month=run.month, status=Status.COMPLETED
            ).exists()
            try:
                with transaction.atomic():
                    run.save()
            except IntegrityError as exc:
                raise RunActive() from exc
        else:
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["heartbeat_at"])
        _enqueue(run.pk)
    return run
