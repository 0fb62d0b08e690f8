"""The resource API's billing endpoints (/api/v1/...), over the same services as the compatible
endpoints.

Money data is for operators: every endpoint here, reads included, answers 403 to others.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.models import Charge, RentRun
from billing.serializers import (
    ChargeSerializer,
    HouseMonthChargesSerializer,
    HouseMonthQuerySerializer,
    RentRunCreateSerializer,
    RentRunSerializer,
)
from billing.statements import house_statement_xlsx
from core.idempotency import idempotent
from core.openapi import OPERATOR_API_ERRORS, XLSX_CONTENT_TYPE
from core.permissions import IsOperator
from housing.models import House

ERRORS = OPERATOR_API_ERRORS


@extend_schema_view(
    list=extend_schema(summary="Rent runs (filter by house, year, month, status; operator)"),
    retrieve=extend_schema(
        summary="A rent run with its progress", responses={200: RentRunSerializer, **ERRORS}
    ),
    create=extend_schema(
        summary="Start a rent calculation (operator)",
        description="201 with a new run; 200 with the run already in progress for that house "
        "and month, or the completed one unless `recalculate` is true (a recalculation "
        "replaces the month's charges in one transaction when it completes).",
        request=RentRunCreateSerializer,
        responses={201: RentRunSerializer, 200: RentRunSerializer, **ERRORS},
    ),
    resume=extend_schema(
        summary="Continue a stalled run now, or retry a failed one (operator)",
        description="An active run is re-enqueued and continues from its saved progress (a "
        "copy still running is harmless: batches are serialized on the run's row). A failed "
        "run starts over. A completed run is a 409.",
        request=None,
        responses={200: RentRunSerializer, 409: OpenApiResponse(description="Completed.")},
    ),
)
class RentRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[RentRun],
):
    permission_classes = [IsOperator]
    serializer_class = RentRunSerializer
    filterset_fields = ["house", "year", "month", "status"]

    def get_queryset(self) -> QuerySet[RentRun]:
        return selectors.run_list()

    def _answer(self, run: RentRun, code: int = status.HTTP_200_OK) -> Response:
        return Response(RentRunSerializer(selectors.get_run(run_id=run.pk)).data, status=code)

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = RentRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run, created = services.start_rent_run(**body.validated_data, user=request.user)
        return self._answer(run, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @action(detail=True, methods=["post"], permission_classes=[IsOperator])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(services.restart_run(run=self.get_object()))


@extend_schema_view(
    list=extend_schema(summary="Charges (filter by house, flat, year, month, status; operator)"),
    retrieve=extend_schema(
        summary="One flat's charge with its breakdown", responses={200: ChargeSerializer, **ERRORS}
    ),
)
class ChargeViewSet(viewsets.ReadOnlyModelViewSet[Charge]):
    permission_classes = [IsOperator]
    serializer_class = ChargeSerializer
    filterset_fields = ["house", "flat", "year", "month", "status", "run"]

    def get_queryset(self) -> QuerySet[Charge]:
        return selectors.charge_list()


def _house_month(request: Request, house_id: int) -> tuple[House, int, int]:
    house = get_object_or_404(House.objects.select_related("street"), pk=house_id)
    query = HouseMonthQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return house, query.validated_data["year"], query.validated_data["month"]


MONTH_PARAMS = [HouseMonthQuerySerializer]


class HouseMonthChargesView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=["charges"],
        summary="A house's charges for a month: totals and one line per flat",
        parameters=MONTH_PARAMS,
        responses={200: HouseMonthChargesSerializer, **ERRORS},
    )
    def get(self, request: Request, house_id: int) -> Response:
        house, year, month = _house_month(request, house_id)
        totals = selectors.house_month_totals(house=house, year=year, month=month)
        lines = selectors.house_month_charges(house=house, year=year, month=month)
        data = {"house": house.pk, "year": year, "month": month, **totals, "lines": lines}
        return Response(HouseMonthChargesSerializer(data).data)


class HouseStatementView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=["charges"],
        summary="xlsx statement of a house's charges for a month",
        parameters=MONTH_PARAMS,
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The workbook."
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, house_id: int) -> HttpResponse:
        house, year, month = _house_month(request, house_id)
        content = house_statement_xlsx(house=house, year=year, month=month)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        filename = f"rent-house-{house.pk}-{year}-{month:02d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
