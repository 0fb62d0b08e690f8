"""Bulk import jobs (the saved progress a Celery task advances in committed batches), the rows
they refused, and the keys they have seen (to find rows that repeat within one file)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from housing.models import QUANTITY_DECIMAL_PLACES, QUANTITY_MAX_DIGITS


class ImportJob(models.Model):
    """One uploaded file imported (or only validated, `dry_run`) as one kind of data.

    Passes: `validate` checks every row and writes nothing; `write` checks and writes each
    batch. A dry run is one validate pass, all_or_nothing a validate pass then (only if no row
    failed) a write pass, valid_rows one write pass. `cursor` (rows of the file done in the
    current pass) commits together with each batch's writes, errors and counts, so a killed
    worker resumes after the last committed batch and no row is written twice.
    """

    class Kind(models.TextChoices):
        READINGS = "readings", _("readings")
        HOUSES = "houses", _("houses, flats and meters")
        TARIFFS = "tariffs", _("tariffs")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("all or nothing")
        VALID_ROWS = "valid_rows", _("valid rows only")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("pending")
        IN_PROGRESS = "IN_PROGRESS", _("in progress")
        COMPLETED = "COMPLETED", _("completed")
        FAILED = "FAILED", _("failed")

    class Phase(models.TextChoices):
        VALIDATE = "validate", _("check")
        WRITE = "write", _("write")

    ACTIVE = (Status.PENDING, Status.IN_PROGRESS)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    mode = models.CharField(
        max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING, verbose_name=_("mode")
    )
    dry_run = models.BooleanField(default=False, verbose_name=_("dry run"))
    file_name = models.CharField(max_length=255, blank=True, verbose_name=_("file"))
    file_size = models.PositiveBigIntegerField(default=0)
    file_format = models.CharField(max_length=8)  # xlsx | csv
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    phase = models.CharField(
        max_length=16, choices=Phase.choices, default=Phase.VALIDATE, verbose_name=_("pass")
    )
    total_rows = models.PositiveIntegerField(default=0)
    cursor = models.PositiveIntegerField(default=0, help_text="Rows done in the current pass.")
    created = models.PositiveIntegerField(default=0, verbose_name=_("rows created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("rows updated"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("rows unchanged"))
    failed = models.PositiveIntegerField(default=0, verbose_name=_("rows failed"))
    # What the file fixes as it is read (e.g. the month of a readings file).
    state = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=list, blank=True, help_text="The first rows, checked.")
    error = models.TextField(blank=True)
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        verbose_name=_("language"),
        help_text=_("The uploader's language: the row errors are written in it."),
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded"))
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        constraints = [
            # The same file for the same kind and options is one job (a failed one may be
            # retried with a new upload), also when two uploads race.
            models.UniqueConstraint(
                fields=["kind", "sha256", "dry_run", "mode"],
                condition=~Q(status="FAILED"),
                name="import_one_job_per_file",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="import_status_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return f"import {self.kind} {self.file_name} {self.status}"

    @property
    def passes(self) -> list[str]:
        if self.dry_run:
            return [self.Phase.VALIDATE]
        if self.mode == self.Mode.ALL_OR_NOTHING:
            return [self.Phase.VALIDATE, self.Phase.WRITE]
        return [self.Phase.WRITE]

    @property
    def percent(self) -> float:
        if self.status == self.Status.COMPLETED:
            return 100.0
        if not self.total_rows:
            return 0.0
        passes = self.passes
        step = passes.index(self.phase) if self.phase in passes else 0
        done = step * self.total_rows + min(self.cursor, self.total_rows)
        return round(done * 100 / (len(passes) * self.total_rows), 1)


class ImportFileChunk(models.Model):
    """The uploaded file, in pieces of up to 1 MB: the web and the worker share the database,
    not a disk, and the worker copies it back piece by piece (memory stays flat)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_job_seq_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.seq}"


class ImportRowError(models.Model):
    """A row the job refused: its line in the file, what was wrong, and the row as read (for
    the error file to fix and upload again)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(help_text="Line in the file (the header is line 1).")
    errors = models.JSONField(help_text="[{column, value, message}]")
    values = models.JSONField(help_text="The row's cells as read.")

    class Meta:
        ordering = ["job", "row"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row"], name="import_error_job_row_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} row {self.row}"


class ImportKey(models.Model):
    """A key (a meter of the month, a serial, a tariff's start) the job has met, and on which
    row: a later row with the same key repeats it. Deleted when the job finishes."""

    # No database FK: checking it locked the job's row once per inserted key, a sixth of a
    # readings import's time; Django still cascades the job's deletion. No index of its own
    # either: the (job, key) unique index serves every lookup by job.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    key = models.BigIntegerField(help_text="A meter id, or a hash of a text key.")
    row = models.PositiveIntegerField()
    value = models.DecimalField(
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_DECIMAL_PLACES,
        null=True,
        help_text="A reading's value, for the write pass to take without reading the file.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="import_key_job_key_uniq")
        ]
        indexes = [models.Index(fields=["job", "row"], name="import_key_job_row_idx")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.key}"
