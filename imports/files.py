"""A job's uploaded file: spooled to a temporary file while it is hashed, kept in the database
in pieces (ImportFileChunk), and copied back out to a local file for each execution."""

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from imports.models import ImportFileChunk, ImportJob

CHUNK_BYTES = 1024 * 1024


def spool(
    chunks: Iterable[bytes], suffix: str = ""
) -> "tuple[tempfile._TemporaryFileWrapper[bytes], str]":
    """The chunks in a temporary file (deleted when closed), and their sha256."""
    digest = hashlib.sha256()
    handle = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 (the caller closes it)
    for chunk in chunks:
        digest.update(chunk)
        handle.write(chunk)
    handle.flush()
    return handle, digest.hexdigest()


@contextmanager
def job_file(job: ImportJob) -> Iterator[str]:
    """The job's uploaded file as a local path, copied out of the database piece by piece."""
    pieces = (
        ImportFileChunk.objects.filter(job=job)
        .order_by("seq")
        .values_list("data", flat=True)
        .iterator(chunk_size=1)
    )
    handle, _ = spool(pieces, suffix=Path(job.file_name).suffix)
    with handle:
        yield handle.name


def store(job: ImportJob, path: str) -> None:
    with open(path, "rb") as source:
        seq = 0
        while data := source.read(CHUNK_BYTES):
            ImportFileChunk.objects.create(job=job, seq=seq, data=data)
            seq += 1
