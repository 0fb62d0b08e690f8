"""Bulk imports (background jobs) and streamed exports, for operators."""

from typing import IO, Any

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import error_response
from core.openapi import OPERATOR_API_ERRORS, XLSX_CONTENT_TYPE
from core.permissions import IsOperator
from housing.periods import validate_month
from imports import exports, services
from imports.models import ImportJob
from imports.serializers import ConfirmSerializer, ImportCreateSerializer, ImportJobSerializer

ERRORS = OPERATOR_API_ERRORS
TOO_LARGE = OpenApiResponse(description="The file is over IMPORT_MAX_UPLOAD_MB.")


def _max_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


def _too_large() -> Response:
    return error_response(
        f"The file is over {settings.IMPORT_MAX_UPLOAD_MB} MB.",
        "file_too_large",
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _xlsx_response(handle: IO[bytes], filename: str) -> FileResponse:
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsOperator]
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.all()
    filterset_fields = ["kind", "status", "dry_run"]
    parser_classes = [MultiPartParser, FormParser]
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(
        summary="Upload a file to import (operator)",
        description="multipart: `file` (xlsx or CSV), `kind` (readings | houses | tariffs), "
        "`dry_run`, `mode` (all_or_nothing | valid_rows). 202 with the queued job; 200 with "
        "the job that already has this file (same content, kind, mode and dry_run). Columns "
        "are matched by their English or Russian header, in any order.",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={202: ImportJobSerializer, 200: ImportJobSerializer, 413: TOO_LARGE, **ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Refuse an oversized upload before its body is parsed and spooled to disk.
        if int(request.META.get("CONTENT_LENGTH") or 0) > _max_bytes() + 64 * 1024:
            return _too_large()
        body = ImportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["file"].size > _max_bytes():
            return _too_large()
        job, created = services.start_import(  # an unreadable file: FileFormatError, a 400
            upload=body.validated_data["file"],
            kind=body.validated_data["kind"],
            dry_run=body.validated_data["dry_run"],
            mode=body.validated_data["mode"],
            user=request.user,
        )
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(ImportJobSerializer(job).data, status=code)

    @extend_schema(
        summary="The import's progress, counts and first row errors",
        responses={200: ImportJobSerializer, **ERRORS},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Import for real the file a dry run checked (operator)",
        request=ConfirmSerializer,
        responses={202: ImportJobSerializer, 200: ImportJobSerializer, 409: ERRORS[400]},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser, MultiPartParser])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job, created = services.confirm_dry_run(
            job=self.get_object(), mode=body.validated_data.get("mode"), user=request.user
        )
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(ImportJobSerializer(job).data, status=code)

    @extend_schema(
        summary="The failed rows as xlsx, with an error column, to fix and upload again",
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(detail=True, methods=["get"], url_path=r"errors\.xlsx")
    def errors(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        return _xlsx_response(exports.errors_file(job), f"errors-{job.pk}.xlsx")


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "en")
    if lang not in ("en", "ru"):
        raise ValidationError({"lang": ["Must be en or ru."]})
    return lang


KIND_PARAM = OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=ImportJob.Kind.values)
LANG_PARAM = OpenApiParameter("lang", str, enum=["en", "ru"], description="Header language.")


class TemplateView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="An import template: the kind's headers and an example row",
        parameters=[KIND_PARAM, LANG_PARAM],
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, kind: str) -> FileResponse:
        lang = _lang(request)
        return _xlsx_response(exports.template_file(kind, lang), f"{kind}-template.xlsx")


class ExportView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Export the registry, tariffs, or a month's readings or charges (operator)",
        description="registry: houses, flats and meters (the `houses` import's columns); "
        "readings: every flat's meters with the month's reading, empty where there is none "
        "(the `readings` import's columns); tariffs; charges: every house's flats for the "
        "month with a totals row per house. `year` and `month` are required for readings and "
        "charges. Streamed; CSV is UTF-8 with a BOM.",
        parameters=[
            OpenApiParameter("what", str, OpenApiParameter.PATH, enum=list(exports.EXPORTS)),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["xlsx", "csv"]),
            OpenApiParameter("year", int),
            OpenApiParameter("month", int),
            LANG_PARAM,
        ],
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    def get(
        self, request: Request, what: str, fmt: str
    ) -> Response | FileResponse | StreamingHttpResponse:
        year = month = None
        query = request.query_params
        # Required for the monthly exports; checked wherever given, as the schema says.
        if what in exports.MONTHLY or "year" in query or "month" in query:
            try:
                year, month = int(query["year"]), int(query["month"])
            except (KeyError, ValueError):
                return error_response(
                    "year and month are required (whole numbers).", "invalid", 400
                )
            validate_month(year, month, allow_future=True)
        lang = _lang(request)
        title, headers, rows = exports.export_rows(what, year=year, month=month, lang=lang)
        filename = f"{title.replace(' ', '-')}.{fmt}"
        if fmt == "xlsx":
            return _xlsx_response(exports.xlsx_file(title, headers, rows), filename)
        response = StreamingHttpResponse(
            exports.csv_stream(headers, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
