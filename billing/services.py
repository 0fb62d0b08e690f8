"""Rent runs: start and restart (the execution in committed batches is billing.runs, run by
the billing.calculate_rent task these enqueue)."""

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.errors import RunActive, RunCompleted
from billing.models import RentRun, StagedLine
from billing.tasks import enqueue_run
from housing.models import House
from housing.periods import validate_month

Status = RentRun.Status


def start_rent_run(
    *,
    house: House,
    year: int,
    month: int,
    recalculate: bool = False,
    user: User | AnonymousUser | None = None,
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
        enqueue_run(run.pk)
    return run, True


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
            # core.money.money_field is typed non-null whatever its `null=`: this field is nullable.
            run.result = None  # type: ignore[assignment]
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
        enqueue_run(run.pk)
    return run
