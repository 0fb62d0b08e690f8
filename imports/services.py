"""Import jobs: start (idempotent by file content), execute in committed batches, resume.

A job's row is its saved progress. Each batch's writes, its row errors, the keys it met, the
counts and the cursor commit together under the job's row lock, so a worker killed at any point
leaves a consistent state; a second delivery of the same task waits on the lock and then sees
the cursor moved and stops, and no row is written twice.
"""

import hashlib
import logging
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from imports import formats
from imports.errors import NotDryRun
from imports.kinds import CREATED, KINDS, UPDATED, Row
from imports.models import ImportFileChunk, ImportJob, ImportKey, ImportRowError

logger = logging.getLogger(__name__)

Status, Phase = ImportJob.Status, ImportJob.Phase
PREVIEW_ROWS = 10


def _enqueue(job_id) -> None:
    transaction.on_commit(lambda: _send(job_id))


def _send(job_id) -> None:
    from imports.tasks import run_import

    try:
        run_import.delay(str(job_id))
    except Exception:
        # The job is committed and PENDING: imports.resume_stalled_imports sends it again.
        logger.exception("Could not enqueue import %s; the beat job will retry", job_id)


CHUNK_BYTES = 1024 * 1024


def _spool(chunks, suffix: str = ""):
    """The chunks in a temporary file (deleted when closed), and their sha256."""
    digest = hashlib.sha256()
    handle = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 (the caller closes it)
    for chunk in chunks:
        digest.update(chunk)
        handle.write(chunk)
    handle.flush()
    return handle, digest.hexdigest()


@contextmanager
def job_file(job: ImportJob):
    """The job's uploaded file as a local path, copied out of the database piece by piece."""
    pieces = (
        ImportFileChunk.objects.filter(job=job)
        .order_by("seq")
        .values_list("data", flat=True)
        .iterator(chunk_size=1)
    )
    handle, _ = _spool(pieces, suffix=Path(job.file_name).suffix)
    with handle:
        yield handle.name


def _store(job: ImportJob, path: str) -> None:
    with open(path, "rb") as source:
        seq = 0
        while data := source.read(CHUNK_BYTES):
            ImportFileChunk.objects.create(job=job, seq=seq, data=data)
            seq += 1


def _existing(*, kind: str, sha256: str, dry_run: bool, mode: str) -> ImportJob | None:
    return (
        ImportJob.objects.filter(kind=kind, sha256=sha256, dry_run=dry_run, mode=mode)
        .exclude(status=Status.FAILED)
        .first()
    )


def start_import(
    *,
    upload,
    kind: str,
    dry_run: bool = False,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    user=None,
) -> tuple[ImportJob, bool]:
    """Store the file and queue its import; returns (job, created). The same content for the
    same kind and options returns the job already there (unless that one failed). A file that
    is not a spreadsheet with this kind's columns raises FileFormatError, storing nothing."""
    name = (getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][-255:]
    upload.seek(0)
    spooled, sha256 = _spool(upload.chunks(), suffix=Path(name).suffix)
    with spooled:
        existing = _existing(kind=kind, sha256=sha256, dry_run=dry_run, mode=mode)
        if existing is not None:
            return existing, False
        file_format, headers = check_file(spooled.name, name, kind)
        job = ImportJob(
            kind=kind,
            mode=mode,
            dry_run=dry_run,
            sha256=sha256,
            file_name=name,
            file_size=Path(spooled.name).stat().st_size,
            file_format=file_format,
            state={"headers": [formats.raw(h) for h in headers]},
            created_by=user if user is not None and user.is_authenticated else None,
        )
        try:
            with transaction.atomic():
                job.save()
                _store(job, spooled.name)
                _enqueue(job.pk)
        except IntegrityError:
            # The same upload raced this one in: answer with the job it created.
            existing = _existing(kind=kind, sha256=sha256, dry_run=dry_run, mode=mode)
            if existing is None:
                raise
            return existing, False
    return job, True


def confirm_dry_run(
    *, job: ImportJob, mode: str | None = None, user=None
) -> tuple[ImportJob, bool]:
    """Import for real the file a dry run checked."""
    if not job.dry_run:
        raise NotDryRun()
    with job_file(job) as path, open(path, "rb") as handle:
        return start_import(
            upload=File(handle, name=job.file_name),
            kind=job.kind,
            dry_run=False,
            mode=mode or job.mode,
            user=user,
        )


def check_file(path, name: str, kind: str) -> tuple[str, list]:
    """The file's format and header row, once that has every required column of the kind."""
    file_format = formats.detect_format(path, name)
    with formats.SheetReader(path, file_format) as reader:
        formats.match_headers(reader.headers, KINDS[kind].columns)
        return file_format, reader.headers


def _fail(job: ImportJob, error: str) -> None:
    job.status = Status.FAILED
    job.error = error
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "heartbeat_at", "state"])
    ImportKey.objects.filter(job=job).delete()
    logger.warning("Import %s failed: %s", job.pk, error)


def _locked(job_id) -> ImportJob | None:
    return ImportJob.objects.select_for_update().filter(pk=job_id).first()


def _claim(job: ImportJob, path: str) -> bool:
    """Count this execution as an attempt; on the first, count the file's rows. False when the
    job failed instead. The caller holds the job's lock."""
    job.attempts += 1
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS:
        _fail(job, f"Gave up after {settings.IMPORT_MAX_ATTEMPTS} attempts.")
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
    first: dict[str, Row] = {}
    for row in rows:
        if row.key is None or row.errors:
            continue
        if row.key in first:
            row.fail("", f"Repeats row {first[row.key].line}.", "")
            row.outcome = None
        else:
            first[row.key] = row
    if not first:
        return
    job_pk = ImportJob._meta.pk.get_db_prep_value(job.pk, connection)
    table = ImportKey._meta.db_table
    with connection.cursor() as cursor:
        # Which keys earlier batches had; then a plain insert of the new ones (the job's row
        # lock, held by the caller, keeps two batches from racing here).
        cursor.execute(
            f"SELECT key, row FROM {table} WHERE job_id = %s AND key IN "
            f"(SELECT unnest(%s::bigint[]))"
            if connection.vendor == "postgresql"
            else f"SELECT key, row FROM {table} WHERE job_id = %s AND key IN "
            f"({', '.join(['%s'] * len(first))})",
            [job_pk, list(first)] if connection.vendor == "postgresql" else [job_pk, *first],
        )
        seen = dict(cursor.fetchall())
        fresh = [row for key, row in first.items() if key not in seen]
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (job_id, key, row, value) SELECT %s, k, r, v "
                "FROM unnest(%s::bigint[], %s::int[], %s::numeric[]) AS t(k, r, v)",
                [
                    job_pk,
                    [row.key for row in fresh],
                    [row.line for row in fresh],
                    [row.staged for row in fresh],
                ],
            )
        else:
            ImportKey.objects.bulk_create(
                ImportKey(job_id=job.pk, key=row.key, row=row.line, value=row.staged)
                for row in fresh
            )
    for key, line in seen.items():
        row = first[key]
        row.fail("", f"Repeats row {line}.", "")
        row.outcome = None


def _column_header(headers: list, colmap: dict, name: str) -> str:
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


def _record_errors(job: ImportJob, failed: list[Row], headers: list, colmap: dict) -> None:
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


def process_staged_batch(job: ImportJob, staged: list, headers: list, colmap: dict) -> None:
    """The write pass of a kind that staged its rows in the validate pass: check them again
    under lock and write them, without the file. The caller holds the job's lock."""
    kind = KINDS[job.kind]
    rows = kind.check_staged(job, staged)
    kind.write(job, [r for r in rows if not r.errors and r.outcome in (CREATED, UPDATED)])
    _count(job, rows)
    _record_errors(job, [row for row in rows if row.errors], headers, colmap)


def process_batch(job: ImportJob, lines, headers: list, colmap: dict) -> list[Row]:
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
            _fail(job, f"{job.failed} rows have errors: nothing was imported.")
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


def execute_import(*, job_id, batch_size: int | None = None, pause: float | None = None) -> None:
    """Run (or continue) an import in committed batches. Safe to call twice, also
    concurrently: each batch re-reads the cursor under the job's row lock."""
    batch_size = batch_size or settings.IMPORT_BATCH_SIZE
    pause = settings.IMPORT_BATCH_PAUSE_SECONDS if pause is None else pause
    job = ImportJob.objects.filter(pk=job_id, status__in=ImportJob.ACTIVE).first()
    if job is None:
        return
    with job_file(job) as path:
        _execute(job_id, path, batch_size, pause)


def _execute(job_id, path: str, batch_size: int, pause: float) -> None:
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
                if pause:
                    time.sleep(pause)


def _staged(job: ImportJob) -> bool:
    return KINDS[job.kind].staged_write and Phase.VALIDATE in job.passes


def _lock_batch(job_id, phase: str, cursor: int) -> ImportJob | None:
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
    if connection.vendor == "postgresql":
        # Safe to lose on a crash: the batch and the cursor that records it commit together,
        # so a lost commit is a batch done again.
        with connection.cursor() as db:
            db.execute("SET LOCAL synchronous_commit = off")
    return job


def _write_staged(job_id, job: ImportJob, batch_size: int, pause: float) -> None:
    """The write pass from the rows the validate pass staged (ImportKey), in line order; the
    cursor is the file's lines done, as in a pass over the file."""
    headers = job.state.get("headers") or []
    colmap = formats.match_headers(headers, KINDS[job.kind].columns)
    cursor = job.cursor
    while True:
        with transaction.atomic():
            job = _lock_batch(job_id, Phase.WRITE, cursor)
            if job is None:
                return
            staged = list(
                ImportKey.objects.filter(job_id=job_id, row__gt=cursor + 1)
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
        if pause:
            time.sleep(pause)


def note_error(*, job_id, error: str) -> None:
    """Show why an execution broke off (the job stays active: the beat job retries it, up to
    IMPORT_MAX_ATTEMPTS)."""
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.ACTIVE).update(error=error[:2000])


def resume_stalled_imports(*, older_than: timedelta | None = None) -> list:
    """Re-enqueue active jobs whose progress has not moved for a while (their worker died, or
    the message was lost). A job still alive is not harmed: the copies share the row lock."""
    if older_than is None:
        older_than = timedelta(seconds=settings.IMPORT_STALLED_AFTER_SECONDS)
    now = timezone.now()
    cutoff = now - older_than
    with transaction.atomic():
        stalled = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=ImportJob.ACTIVE)
            .filter(
                Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
            )
            .values_list("pk", flat=True)
        )
        ImportJob.objects.filter(pk__in=stalled).update(heartbeat_at=now)
        for job_id in stalled:
            _enqueue(job_id)
    if stalled:
        logger.info("Re-enqueued %d stalled imports", len(stalled))
    return stalled
