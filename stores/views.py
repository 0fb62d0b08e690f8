"""The stores HTTP endpoints: paths and bodies as the stores API specifies them."""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, renderers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import idempotent
from core.openapi import XLSX_CONTENT_TYPE, api_error
from core.permissions import IsOperatorOrReadOnly
from stores import selectors, services, xlsx
from stores.models import StockMovement, Store
from stores.permissions import CanOperateStockOrReadOnly
from stores.serializers import (
    GroupOperationInputSerializer,
    InsufficientStockErrorSerializer,
    OperationInputSerializer,
    StockMovementSerializer,
    StoreInputSerializer,
    StoreReportSerializer,
    StoreSerializer,
)

REQUEST_ID_HEADER = "X-Request-ID"
TAG = "stores"
SLASH = " The same path with a trailing slash answers too."

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A retry with the same key replays the first answer and changes nothing.",
)
REQUEST_ID_PARAMETER = OpenApiParameter(
    REQUEST_ID_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Stored on the movement rows (generated when absent).",
)
COMMON_ERRORS = {
    400: api_error("Invalid body."),
    401: api_error("Not signed in."),
    403: api_error("No stock permission."),
    404: api_error("Unknown store."),
    422: api_error("Idempotency-Key reused with another body."),
}
SHORTAGE = {
    409: OpenApiResponse(
        InsufficientStockErrorSerializer,
        description="Not enough stock for one or more items; nothing was changed.",
    )
}


def _request_id(request: Request) -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "").strip()
    if len(value) > 64:
        raise ValidationError({REQUEST_ID_HEADER: [_("At most %(max)s characters.") % {"max": 64}]})
    # Without one, the id the request already has (logs, the X-Request-ID answer header).
    return value or getattr(request, "request_id", None) or services.new_request_id()


class StockViewMixin(APIView):
    permission_classes = [CanOperateStockOrReadOnly]


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="List stores",
        operation_id="stores_list",
        description="All stores, by store_id.",
    ),
)
class StoreListView(generics.ListCreateAPIView):
    """Stores; operators add more (besides those named in STORE_IDS)."""

    permission_classes = [IsOperatorOrReadOnly]
    serializer_class = StoreSerializer

    def get_queryset(self) -> QuerySet[Store]:
        return selectors.list_stores()

    @extend_schema(
        tags=[TAG],
        summary="Create a store (operators)",
        operation_id="stores_create",
        description="store_id: letters, digits, '_', '-', '.'; 409 if it exists.",
        request=StoreInputSerializer,
        responses={
            201: StoreSerializer,
            409: api_error("Store exists."),
            **COMMON_ERRORS,
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = StoreInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        store = services.create_store(store_id=body.validated_data["store_id"])
        return Response(StoreSerializer(store).data, status=status.HTTP_201_CREATED)


class StoreStockView(StockViewMixin, APIView):
    @extend_schema(
        tags=[TAG],
        summary="Stock report of a store",
        operation_id="stores_report",
        description="Items with quantity > 0, sorted by item_id." + SLASH,
        responses={200: StoreReportSerializer, **COMMON_ERRORS},
    )
    def get(self, request: Request, store_id: str) -> Response:
        store = services.resolve_store(store_id=store_id)
        return Response(selectors.store_report(store=store))

    @extend_schema(
        tags=[TAG],
        summary="Supply or demand one item",
        operation_id="stores_operation",
        description=(
            "`supply` adds to the item (creating it), `demand` takes from it. A demand of more "
            "than is in stock, or of an unknown item, answers 409 and changes nothing. Answers "
            "the store's report; websocket subscribers get the same report." + SLASH
        ),
        request=OperationInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER, REQUEST_ID_PARAMETER],
        responses={200: StoreReportSerializer, **SHORTAGE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, store_id: str) -> Response:
        store = services.resolve_store(store_id=store_id)
        body = OperationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.apply_operation(
            store=store,
            operation=body.validated_data["operation"],
            item_id=body.validated_data["item_id"],
            quantity=body.validated_data["quantity"],
            user=request.user,
            request_id=_request_id(request),
        )
        return Response(report)


class GroupOperationView(StockViewMixin, APIView):
    @extend_schema(
        tags=[TAG],
        summary="Supply or demand several items, all or nothing",
        operation_id="stores_group_op",
        description=(
            "Repeated item ids are summed. If any line cannot be served, nothing is applied and "
            "the 409 answer lists every failed line in `errors`. Subscribers get one message."
            + SLASH
        ),
        request=GroupOperationInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER, REQUEST_ID_PARAMETER],
        responses={200: StoreReportSerializer, **SHORTAGE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, store_id: str) -> Response:
        store = services.resolve_store(store_id=store_id)
        body = GroupOperationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.apply_group_operation(
            store=store,
            operation=body.validated_data["operation"],
            lines=[(line["item_id"], line["quantity"]) for line in body.validated_data["items"]],
            user=request.user,
            request_id=_request_id(request),
        )
        return Response(report)


class CleanView(StockViewMixin, APIView):
    @extend_schema(
        tags=[TAG],
        summary="Empty a store",
        operation_id="stores_clean",
        description="Sets every item to 0 (recorded as `clean` movements); the report is `[]`."
        + SLASH,
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER, REQUEST_ID_PARAMETER],
        responses={200: StoreReportSerializer, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, store_id: str) -> Response:
        store = services.resolve_store(store_id=store_id)
        report = services.clean_store(
            store=store, user=request.user, request_id=_request_id(request)
        )
        return Response(report)


class XlsxRenderer(renderers.BaseRenderer):
    """Lets clients ask for the file with `Accept: <xlsx type>`; errors stay JSON."""

    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


class XlsxReportView(APIView):
    renderer_classes = [renderers.JSONRenderer, XlsxRenderer]

    @extend_schema(
        tags=[TAG],
        summary="Stock report as an .xlsx file",
        operation_id="stores_xlsx_report",
        description=(
            "A workbook with the store id, the generation time, a header row (item_id, "
            "quantity) and one row per item in stock; saved as STORE_<store_id>.xlsx." + SLASH
        ),
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
            **COMMON_ERRORS,
        },
    )
    def get(self, request: Request, store_id: str) -> HttpResponseBase:
        store = services.resolve_store(store_id=store_id)
        content = xlsx.build_workbook([selectors.store_report(store=store)])
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        filename = xlsx.report_filename(store.store_id)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class _MovementLogView(generics.ListAPIView):
    """The stock movement log of a store or of one of its items (each subclass has its own
    schema, so that the item's page does not inherit the store page's `item_id` filter)."""

    serializer_class = StockMovementSerializer

    def get_queryset(self) -> QuerySet[StockMovement]:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no URL kwargs
            return StockMovement.objects.none()
        store = services.resolve_store(store_id=self.kwargs["store_id"])
        item_id = self.kwargs.get("item_id") or self.request.query_params.get("item_id")
        return selectors.movements(store=store, item_id=item_id)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="Stock movements",
        operation_id="stores_movements",
        description=(
            "Every change (supply, demand, clean) with delta, quantity after, user and request "
            "id, newest first. `/stores/{store_id}/items/{item_id}/movements` or "
            "`?item_id=` narrows it to one item."
        ),
        parameters=[
            OpenApiParameter("item_id", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False)
        ],
        responses={200: StockMovementSerializer(many=True), **COMMON_ERRORS},
    ),
)
class MovementListView(_MovementLogView):
    """The stock movement log of a store (`?item_id=` narrows it to one item)."""


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="Stock movements of one item",
        operation_id="stores_item_movements",
        description="The history of one item of a store, newest first.",
        responses={200: StockMovementSerializer(many=True), **COMMON_ERRORS},
    ),
)
class ItemMovementListView(_MovementLogView):
    """The stock movement log of one item."""
