"""Executing import jobs: committed batches with saved progress, resumable.

A job's row is its saved progress. Each batch's writes, its row errors, the keys it met, the
counts and the cursor commit together under the job's row lock, so a worker killed at any point
leaves a consistent state; a second delivery of the same task waits on the lock and then sees
the cursor moved and stops, and no row is written twice. (imports.tasks runs these; this module
imports neither the tasks nor the services.)
"""

import gc
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from imports import files, formats, sql
from imports.kinds import CREATED, KINDS, UPDATED, Row, Staged
from imports.models import ImportJob, ImportKey, ImportRowError

logger = logging.getLogger(__name__)

Status, Phase = ImportJob.Status, ImportJob.Phase
JobId = UUID | str  # a task's argument is the id as text
PREVIEW_ROWS = 10


def _fail(job: ImportJob, error: str) -> None:
    job.status = Status.FAILED
    job.error = error
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "heartbeat_at", "state"])
    ImportKey.objects.filter(job=job).delete()
    logger.warning("Import %s failed: %s", job.pk, error)


def _locked(job_id: JobId) -> ImportJob | None:
    return ImportJob.objects.select_for_update().filter(pk=job_id).first()


def _claim(job: ImportJob, path: str) -> bool:
    """Count this execution as an attempt; on the first, count the file's rows. False when the
    job failed instead. The caller holds the job's lock."""
    job.attempts += 1
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS:
        _fail(
            job,
            _("Gave up after %(attempts)s attempts.") % {"attempts": settings.IMPORT_MAX_ATTEMPTS},
        )
        return False
    now = timezone.now()
    if job.status == Status.PENDING:
        try:
            with formats.SheetReader(path, job.file_format) as reader:
                job.total_rows = reader.count()
        except formats.FileFormatError as exc:
            _fail(job, str(exc))
            return False
        job.status, job.phase, job.cursor = Status.IN_PROGRESS, job.passes[0], 0
        job.started_at = now
    job.heartbeat_at = now
    job.save()
    return True


def _record_keys(job: ImportJob, rows: list[Row]) -> None:
    """Fail the rows whose key an earlier row of the file had (a meter's second reading of
    the month, a serial twice, a tariff twice)."""
    first: dict[int, Row] = {}
    for row in rows:
        if row.key is None or row.errors:
            continue
        if row.key in first:
            row.fail("", _("Repeats row %(row)s.") % {"row": first[row.key].line}, "")
            row.outcome = None
        else:
            first[row.key] = row
    if not first:
        return
    job_pk = ImportJob._meta.pk.get_db_prep_value(job.pk, connection)
    # The job's row lock, held by the caller, keeps two batches from racing here.
    seen = sql.record_keys(
        job_pk,
        list(first),
        [row.line for row in first.values()],
        [row.staged for row in first.values()],
    )
    for key, line in seen.items():
        row = first[key]
        row.fail("", _("Repeats row %(row)s.") % {"row": line}, "")
        row.outcome = None


def _column_header(headers: list, colmap: dict[str, int], name: str) -> str:
    index = colmap.get(name)
    return str(headers[index]).strip() if index is not None else name


def _count(job: ImportJob, rows: list[Row]) -> None:
    for row in rows:
        if row.errors:
            job.failed += 1
        elif row.outcome == CREATED:
            job.created += 1
        elif row.outcome == UPDATED:
            job.updated += 1
        else:
            job.unchanged += 1


def _record_errors(
    job: ImportJob, failed: list[Row], headers: list, colmap: dict[str, int]
) -> None:
    ImportRowError.objects.bulk_create(
        ImportRowError(
            job=job,
            row=row.line,
            errors=[
                {**e, "column": _column_header(headers, colmap, e["column"]) if e["column"] else ""}
                for e in row.errors
            ],
            values=[formats.raw(cell) for cell in row.cells],
        )
        for row in failed
    )


def process_staged_batch(
    job: ImportJob, staged: list[Staged], headers: list, colmap: dict[str, int]
) -> None:
    """The write pass of a kind that staged its rows in the validate pass: check them again
    under lock and write them, without the file. The caller holds the job's lock."""
    kind = KINDS[job.kind]
    rows = kind.check_staged(job, staged)
    kind.write(job, [r for r in rows if not r.errors and r.outcome in (CREATED, UPDATED)])
    _count(job, rows)
    _record_errors(job, [row for row in rows if row.errors], headers, colmap)


def process_batch(
    job: ImportJob,
    lines: Iterable[tuple[int, list | tuple]],
    headers: list,
    colmap: dict[str, int],
) -> list[Row]:
    """Check (and in a write pass, write) one batch of the file's lines; updates the job's
    counts and records the failed rows. The caller holds the job's lock."""
    kind = KINDS[job.kind]
    write = job.phase == Phase.WRITE
    plan = kind.plan(colmap)
    rows = [row for line, cells in lines if (row := kind.parse(line, cells, plan))]
    kind.check(job, [row for row in rows if not row.errors], write=write)
    # A write pass after a validate pass has seen every key already.
    if not (write and Phase.VALIDATE in job.passes):
        _record_keys(job, rows)
    if write:
        kind.write(job, [r for r in rows if not r.errors and r.outcome in (CREATED, UPDATED)])
    elif kind.staged_write:
        # Rows that pass without a key (a reading left empty) are not staged for the write
        # pass, which counts them from here.
        unkeyed = sum(1 for row in rows if not row.errors and row.key is None)
        job.state["unkeyed"] = job.state.get("unkeyed", 0) + unkeyed
    failed = [row for row in rows if row.errors]
    _count(job, rows)
    _record_errors(job, failed, headers, colmap)
    if job.phase == job.passes[0] and len(job.preview) < PREVIEW_ROWS:
        for row in rows[: PREVIEW_ROWS - len(job.preview)]:
            job.preview.append(
                {
                    "row": row.line,
                    "values": {c.name: formats.raw(row.values.get(c.name)) for c in kind.columns},
                    "outcome": "failed" if row.errors else row.outcome,
                    "errors": [e["message"] for e in row.errors],
                }
            )
    return rows


def _finish_pass(job: ImportJob) -> bool:
    """Move on after a pass: to the write pass, or complete/fail. True when the job ended."""
    now = timezone.now()
    job.heartbeat_at = now
    if job.phase == Phase.VALIDATE and not job.dry_run:
        if job.failed:
            _fail(
                job,
                _("%(failed)s rows have errors: nothing was imported.") % {"failed": job.failed},
            )
            return True
        # The write pass counts what it writes; the validate pass only predicted it.
        job.phase, job.cursor = Phase.WRITE, 0
        job.created = job.updated = job.unchanged = 0
        if KINDS[job.kind].staged_write:
            job.unchanged = job.state.get("unkeyed", 0)
        job.save()
        return False
    job.status, job.finished_at = Status.COMPLETED, now
    job.save()
    ImportKey.objects.filter(job=job).delete()
    logger.info(
        "Import %s completed: %s, %d rows, created %d, updated %d, unchanged %d, failed %d",
        job.pk, job.kind, job.total_rows, job.created, job.updated, job.unchanged, job.failed,
    )  # fmt: skip
    return True


def execute_import(
    *, job_id: JobId, batch_size: int | None = None, pause: float | None = None
) -> None:
    """Run (or continue) an import in committed batches. Safe to call twice, also
    concurrently: each batch re-reads the cursor under the job's row lock."""
    batch_size = batch_size or settings.IMPORT_BATCH_SIZE
    pause = settings.IMPORT_BATCH_PAUSE_SECONDS if pause is None else pause
    job = ImportJob.objects.filter(pk=job_id, status__in=ImportJob.ACTIVE).first()
    if job is None:
        return
    with (
        files.job_file(job) as path,
        _without_cycle_collector(),
        translation.override(job.language or None),
    ):
        _execute(job_id, path, batch_size, pause)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """A batch allocates ~10 objects per row and keeps them to its end: the cyclic garbage
    collector, triggered by the allocations, scanned them again and again (a fifth of a
    readings import's CPU). What a batch drops is freed by reference counting; the collector
    collects the young objects between batches (_between_batches)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _between_batches(pause: float) -> None:
    gc.collect(1)  # cheap here: the batch's rows are gone
    if pause:
        time.sleep(pause)


def _execute(job_id: JobId, path: str, batch_size: int, pause: float) -> None:
    with transaction.atomic():
        job = _locked(job_id)
        if job is None or job.status not in ImportJob.ACTIVE or not _claim(job, path):
            return
    while True:
        if job.phase == Phase.WRITE and _staged(job):
            _write_staged(job_id, job, batch_size, pause)
            return
        phase, cursor = job.phase, job.cursor
        with formats.SheetReader(path, job.file_format) as reader:
            colmap = formats.match_headers(reader.headers, KINDS[job.kind].columns)
            lines = reader.rows(skip=cursor)
            while True:
                batch = list(islice(lines, batch_size))
                with transaction.atomic():
                    job = _lock_batch(job_id, phase, cursor)
                    if job is None:
                        return
                    if not batch:
                        if _finish_pass(job):
                            return
                        break
                    process_batch(job, batch, reader.headers, colmap)
                    job.cursor = cursor = cursor + len(batch)
                    job.heartbeat_at = timezone.now()
                    job.save()
                _between_batches(pause)


def _staged(job: ImportJob) -> bool:
    return KINDS[job.kind].staged_write and Phase.VALIDATE in job.passes


def _lock_batch(job_id: JobId, phase: str, cursor: int) -> ImportJob | None:
    """The job under its lock, if it is still where this execution left it."""
    job = _locked(job_id)
    if (
        job is None
        or job.status != Status.IN_PROGRESS
        or (job.phase, job.cursor)
        != (
            phase,
            cursor,
        )
    ):
        return None  # another execution has moved on
    sql.relax_commit()
    return job


def _write_staged(job_id: JobId, job: ImportJob, batch_size: int, pause: float) -> None:
    """The write pass from the rows the validate pass staged (ImportKey), in line order; the
    cursor is the file's lines done, as in a pass over the file."""
    headers = job.state.get("headers") or []
    colmap = formats.match_headers(headers, KINDS[job.kind].columns)
    cursor = job.cursor
    while True:
        with transaction.atomic():
            locked = _lock_batch(job_id, Phase.WRITE, cursor)
            if locked is None:
                return
            job = locked
            staged = list(
                ImportKey.objects.filter(job_id=job.pk, row__gt=cursor + 1)
                .order_by("row")
                .values_list("row", "key", "value")[:batch_size]
            )
            if not staged:
                job.cursor = job.total_rows
                _finish_pass(job)
                return
            process_staged_batch(job, staged, headers, colmap)
            job.cursor = cursor = staged[-1][0] - 1
            job.heartbeat_at = timezone.now()
            job.save()
        _between_batches(pause)


def note_error(*, job_id: JobId, error: str) -> None:
    """Show why an execution broke off (the job stays active: the beat job retries it, up to
    IMPORT_MAX_ATTEMPTS)."""
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.ACTIVE).update(error=error[:2000])


def claim_stalled_imports(*, older_than: timedelta | None = None) -> list[UUID]:
    """Active jobs whose progress has not moved for a while (their worker died, or the message
    was lost), their heartbeat moved to now so the next look skips them; the caller, inside
    the same transaction, enqueues them again. A job still alive is not harmed: the copies
    share the row lock."""
    if older_than is None:
        older_than = timedelta(seconds=settings.IMPORT_STALLED_AFTER_SECONDS)
    now = timezone.now()
    cutoff = now - older_than
    stalled = list(
        ImportJob.objects.select_for_update(skip_locked=True)
        .filter(status__in=ImportJob.ACTIVE)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    ImportJob.objects.filter(pk__in=stalled).update(heartbeat_at=now)
    return stalled
