"""Import jobs: start one (idempotent by file content), or confirm a dry run.

The job's execution is imports.runs, run by the imports.run_import task.
"""

from pathlib import Path
from uuid import UUID

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils.translation import get_language

from imports import files, formats, tasks
from imports.errors import NotDryRun
from imports.kinds import KINDS
from imports.models import ImportJob

Status = ImportJob.Status


def _enqueue(job_id: UUID) -> None:
    tasks.enqueue_run(job_id)


def _existing(*, kind: str, sha256: str, dry_run: bool, mode: str) -> ImportJob | None:
    return (
        ImportJob.objects.filter(kind=kind, sha256=sha256, dry_run=dry_run, mode=mode)
        .exclude(status=Status.FAILED)
        .first()
    )


def start_import(
    *,
    upload: "File[bytes]",
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
    spooled, sha256 = files.spool(upload.chunks(), suffix=Path(name).suffix)
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
            # The row errors are written in the uploader's language (the request's).
            language=get_language() or "",
        )
        try:
            with transaction.atomic():
                job.save()
                files.store(job, spooled.name)
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
    with files.job_file(job) as path, open(path, "rb") as handle:
        return start_import(
            upload=File(handle, name=job.file_name),
            kind=job.kind,
            dry_run=False,
            mode=mode or job.mode,
            user=user,
        )


def check_file(path: str, name: str, kind: str) -> tuple[str, list]:
    """The file's format and header row, once that has every required column of the kind."""
    file_format = formats.detect_format(path, name)
    with formats.SheetReader(path, file_format) as reader:
        formats.match_headers(reader.headers, KINDS[kind].columns)
        return file_format, reader.headers
