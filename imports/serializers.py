from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from imports.models import ImportJob

FIRST_ERRORS = 20


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="xlsx or CSV (UTF-8 or Windows-1251; , or ;).")
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    dry_run = serializers.BooleanField(default=False, help_text="Check only, write nothing.")
    mode = serializers.ChoiceField(
        choices=ImportJob.Mode.choices,
        default=ImportJob.Mode.ALL_OR_NOTHING,
        help_text="all_or_nothing: nothing is written if any row fails; valid_rows: the good "
        "rows are written and the bad ones reported.",
    )


class ConfirmSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, required=False)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.FloatField()


class CountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line in the file; the header is line 1.")
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    # The API's field, not Serializer.errors: the serializer's metaclass moves declared fields
    # off the class, which the stubs cannot express.
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "mode", "dry_run", "file_name", "file_format", "status", "phase",
            "progress", "counts", "errors", "errors_url", "error", "preview", "attempts",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        done = job.total_rows if job.status == job.Status.COMPLETED else job.cursor
        return {"done": min(done, job.total_rows), "total": job.total_rows, "percent": job.percent}

    @extend_schema_field(CountsSerializer)
    def get_counts(self, job: ImportJob) -> dict[str, int]:
        return {k: getattr(job, k) for k in ("created", "updated", "unchanged", "failed")}

    @extend_schema_field(RowErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict[str, Any]]:
        """The first row errors, in file order."""
        found = []
        for row, errors in job.row_errors.order_by("row").values_list("row", "errors")[
            :FIRST_ERRORS
        ]:
            found += [{"row": row, **error} for error in errors]
        return found[:FIRST_ERRORS]

    def get_errors_url(self, job: ImportJob) -> str | None:
        return f"/api/v1/imports/{job.pk}/errors.xlsx" if job.failed else None
