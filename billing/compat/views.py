"""The compatible payment endpoints. Thin: parse, call billing services/selectors, render."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.compat.serializers import (
    CalculateInSerializer,
    PaymentProgressSerializer,
    TaskIdSerializer,
)
from core.idempotency import idempotent
from core.permissions import IsOperator
from housing.errors import NoSuchHouse
from housing.selectors import get_house_by_address

TAGS = ["Rent"]


class CalculateView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=TAGS,
        operation_id="payment_calculate",
        summary="Start calculating a house's rent for a month (operator)",
        description=(
            "Creates a run (its id is `task_id`) that a Celery worker computes in batches, "
            "saving progress. Always 201, as the compatible endpoint documents it: when a run "
            "of that house and month is already in progress, or completed (unless "
            "`recalculate: true`, which replaces the charges atomically when done), its id is "
            "returned instead of a new one (POST /api/v1/rent-runs/ tells the two apart: 201 "
            "new, 200 existing). Unknown house or street, a missing field, month 13 or a "
            "future month: 400. A month without tariffs makes the run FAILED with the reason "
            "in `error`. An `Idempotency-Key` header makes a retry replay the first answer."
        ),
        request=CalculateInSerializer,
        responses={
            201: TaskIdSerializer,
            400: OpenApiResponse(description="Validation error."),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an operator."),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = CalculateInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            house = get_house_by_address(
                number=data["home_number"], street_name=data["street_name"]
            )
        except NoSuchHouse as exc:
            raise serializers.ValidationError({"home_number": [str(exc)]}) from exc
        run, _ = services.start_rent_run(
            house=house,
            year=data["year"],
            month=data["month"],
            recalculate=data["recalculate"],
            user=request.user,
        )
        # The original API documents only 201; the resource API answers 200 for an existing run.
        return Response(TaskIdSerializer(run).data, status=status.HTTP_201_CREATED)


class ProgressView(APIView):
    permission_classes = [IsOperator]  # the lines are every flat's money: operators only

    @extend_schema(
        tags=TAGS,
        operation_id="payment_progress",
        summary="Status, progress and lines of a rent run (operator)",
        description="`progress` is {done, total, percent} in flats; `flats` lists the lines "
        "written so far (money as JSON numbers, as the compatible endpoint shows `result`). "
        "`status` `needs_reading` on a line: a meter reading is missing, no water was charged.",
        parameters=[OpenApiParameter("task_id", str, OpenApiParameter.PATH)],
        responses={
            200: PaymentProgressSerializer,
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an operator."),
            404: OpenApiResponse(description="No such task."),
        },
    )
    def get(self, request: Request, task_id: str) -> Response:
        run = selectors.get_run(run_id=task_id)
        lines = selectors.run_lines(run=run)
        return Response(PaymentProgressSerializer(run, context={"lines": lines}).data)
