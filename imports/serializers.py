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
    errors = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "mode", "dry_run", "file_name", "file_format", "status", "phase",
            "progress", "counts", "errors", "errors_url", "error", "preview", "attempts",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, job) -> ProgressSerializer:
        done = job.total_rows if job.status == job.Status.COMPLETED else job.cursor
        return {"done": min(done, job.total_rows), "total": job.total_rows, "percent": job.percent}

    def get_counts(self, job) -> CountsSerializer:
        return {k: getattr(job, k) for k in ("created", "updated", "unchanged", "failed")}

    def get_errors(self, job) -> RowErrorSerializer(many=True):
        """The first row errors, in file order."""
        found = []
        for row, errors in job.row_errors.order_by("row").values_list("row", "errors")[
            :FIRST_ERRORS
        ]:
            found += [{"row": row, **error} for error in errors]
        return found[:FIRST_ERRORS]

    def get_errors_url(self, job) -> str | None:
        return f"/api/v1/imports/{job.pk}/errors.xlsx" if job.failed else None
