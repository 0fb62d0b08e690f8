from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.parsers import JSONParserAllowingNul
from core.permissions import IsAnalyst, IsOperator
from receipts import charts, selectors
from receipts.errors import (
    NoSuchPlace,
    NoSuchUser,
    PlaceNotAssigned,
    ReceiptBodyTooLarge,
    TransactionIdConflict,
)
from receipts.examples import EXAMPLE_RECEIPT
from receipts.models import Channel, Place
from receipts.permissions import CanPostReceipts
from receipts.serializers import (
    BULK_REQUEST_DESCRIPTION,
    MOMENT_PATTERN,
    AnalyticsQuerySerializer,
    BulkOutSerializer,
    PlaceAnalyticsSerializer,
    PlaceSerializer,
    PointOfSalePlaceInSerializer,
    PointOfSalePlaceSerializer,
    ReceiptInSerializer,
    ReceiptOutSerializer,
)
from receipts.services import points_of_sale
from receipts.services.ingestion import (
    MAX_BULK,
    Outcome,
    ingest_receipts,
    journal_refused_request,
    record_malformed_request,
)

if TYPE_CHECKING:
    from accounts.models import User

ERRORS = {
    400: OpenApiResponse(description="Invalid receipt: says which field and why."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(
        description="Signed in without the post_receipts permission, or (not an operator) "
        "for a place no operator assigned to this point of sale."
    ),
}
READ_ERRORS = {
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not an analyst."),
}
RANGE_PARAMETERS = [
    OpenApiParameter(
        "from",
        {"type": "string", "pattern": MOMENT_PATTERN},
        description="Only hours starting at or after this moment: a date (`2026-11-01`) or a "
        "date-time (`2026-11-01T09:00`, `2026-11-01T09:00:00+03:00`) of the years 1970-2099; "
        "without an offset, in the server's time zone.",
    ),
    OpenApiParameter(
        "to",
        {"type": "string", "pattern": MOMENT_PATTERN},
        description="Only hours starting before this moment (same format). Must be later than "
        "`from`, else 400.",
    ),
]


class ReceiptPostView(APIView):
    """Shared behaviour of the endpoints that receive receipts: journal every refusal too."""

    permission_classes = [CanPostReceipts]
    # NUL characters are reported per receipt by the validator (and dead-lettered).
    parser_classes = [JSONParserAllowingNul]
    channel = Channel.CHECKS
    max_body_setting = "DATA_UPLOAD_MAX_MEMORY_SIZE"

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> NoReturn:
        outcome = "unauthenticated" if not request.user.is_authenticated else "forbidden"
        journal_refused_request(
            request=request, outcome=outcome, channel=self.channel, detail=str(message or "")
        )
        super().permission_denied(request, message=message, code=code)

    def read_body(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        max_body_bytes = getattr(settings, self.max_body_setting)
        if length > max_body_bytes:
            problem = f"At most {max_body_bytes} bytes per request, got {length}."
            record_malformed_request(
                caller=request.user,
                channel=self.channel,
                errors={"non_field_errors": [problem]},
                payload=None,
            )
            raise ReceiptBodyTooLarge(problem)
        try:
            return request.data
        except (exceptions.ParseError, exceptions.UnsupportedMediaType) as exc:
            record_malformed_request(
                caller=request.user,
                channel=self.channel,
                errors={"non_field_errors": [str(exc.detail)]},
                payload=None,
            )
            raise


class SingleReceiptView(ReceiptPostView):
    count_now = False

    def post(self, request: Request) -> Response:
        [result] = ingest_receipts(
            payloads=[self.read_body(request)],
            caller=request.user,
            channel=self.channel,
            count_now=self.count_now,
            allowed_places=selectors.postable_places(request.user),
        )
        if result.outcome == Outcome.INVALID:
            raise exceptions.ValidationError(result.errors)
        if result.outcome == Outcome.FORBIDDEN:
            raise exceptions.PermissionDenied(
                result.errors["place_id"][0], code="place_not_assigned"
            )
        if result.outcome == Outcome.CONFLICT:
            raise TransactionIdConflict(fields=result.errors)
        receipt = selectors.receipt_by_id(result.receipt_id)
        code = status.HTTP_201_CREATED if result.outcome == Outcome.CREATED else status.HTTP_200_OK
        return Response(ReceiptOutSerializer(receipt).data, status=code)


RECEIPT_RESPONSES = {
    201: ReceiptOutSerializer,
    200: OpenApiResponse(
        ReceiptOutSerializer,
        description="The same receipt (same transaction_id and content) was already accepted: "
        "the stored one is returned and nothing is counted again.",
    ),
    **ERRORS,
    409: OpenApiResponse(description="transaction_id already used with different content."),
    413: OpenApiResponse(description="The body is larger than 1 MiB."),
}


@extend_schema(
    tags=["receipts"],
    summary="Post a receipt (point of sale)",
    description="Accepts one receipt, journals it and hands it to the consumer side through the "
    "stream (RECEIPTS_TRANSPORT). Requires the `receipts.post_receipts` permission. "
    "`total_amount` must equal the sum of quantity x price within 0.01; `tips_amount` comes on "
    "top of it and is optional. Unknown fields are ignored. Also served without the trailing "
    "slash.",
    request=ReceiptInSerializer,
    responses=RECEIPT_RESPONSES,
    examples=[OpenApiExample("A receipt from a shop", value=EXAMPLE_RECEIPT, request_only=True)],
)
class ChecksView(SingleReceiptView):
    channel = Channel.CHECKS


@extend_schema(
    tags=["receipts"],
    summary="Accept a receipt directly on the consumer side",
    description="The consumer's own entry point (compatible endpoint): the same validation "
    "and deduplication as `/api/checks/`, but the receipt is counted in the analytics before "
    "the answer, without going through the stream. Requires `receipts.post_receipts`. Also "
    "served without the trailing slash.",
    request=ReceiptInSerializer,
    responses=RECEIPT_RESPONSES,
    examples=[OpenApiExample("A receipt from a shop", value=EXAMPLE_RECEIPT, request_only=True)],
)
class AddChecksView(SingleReceiptView):
    channel = Channel.ADD_CHECKS
    count_now = True


@extend_schema(
    tags=["receipts"],
    summary="Post up to 1,000 receipts at once",
    description=f"{BULK_REQUEST_DESCRIPTION} Each receipt is validated and deduplicated on its "
    "own; the answer (200) lists one result per receipt, in request order, with the same "
    "statuses as the single endpoint (created, duplicate, conflict, invalid + errors, "
    "forbidden: a place not assigned to this point of sale). A body "
    "that is not such an array is refused as a whole with 400. Requires "
    "`receipts.post_receipts`. At most 32 MiB per request (413 beyond).",
    # Any items: each is checked on its own and reported in `results`, never refused whole.
    request={
        "application/json": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_BULK,
            "items": {"description": "A receipt, as the body of `POST /api/checks/`."},
        }
    },
    responses={
        200: BulkOutSerializer,
        **ERRORS,
        413: OpenApiResponse(description="The body is larger than 32 MiB."),
    },
)
class BulkChecksView(ReceiptPostView):
    channel = Channel.BULK
    max_body_setting = "RECEIPTS_BULK_MAX_BODY_BYTES"

    def post(self, request: Request) -> Response:
        body = self.read_body(request)
        problem = None
        if not isinstance(body, list):
            problem = "Expected a JSON array of receipts."
        elif not body:
            problem = "Expected at least one receipt."
        elif len(body) > MAX_BULK:
            problem = f"At most {MAX_BULK} receipts per request, got {len(body)}."
        if problem:
            errors = {"non_field_errors": [problem]}
            record_malformed_request(
                caller=request.user,
                channel=self.channel,
                errors=errors,
                payload=body if not isinstance(body, list) else None,
            )
            raise exceptions.ValidationError(errors)
        results = ingest_receipts(
            payloads=body,
            caller=request.user,
            channel=self.channel,
            allowed_places=selectors.postable_places(request.user),
        )
        counts = dict.fromkeys(("created", "duplicate", "conflict", "invalid", "forbidden"), 0)
        rows = []
        for result in results:
            counts[result.outcome] += 1
            row = {
                "index": result.index,
                "transaction_id": result.transaction_id,
                "status": result.outcome,
            }
            if result.errors:
                row["errors"] = result.errors
            rows.append(row)
        return Response(
            {
                "created": counts["created"],
                "duplicates": counts["duplicate"],
                "conflicts": counts["conflict"],
                "invalid": counts["invalid"],
                "forbidden": counts["forbidden"],
                "results": rows,
            }
        )


@extend_schema(
    tags=["analytics"],
    summary="Places of purchase",
    description="Every place the consumer has seen in receipts. Any signed-in user.",
    responses={200: PlaceSerializer, 401: OpenApiResponse(description="Not signed in.")},
)
class PlaceListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = PlaceSerializer

    def get_queryset(self) -> QuerySet[Place]:
        return selectors.places()


def _hour_range(request: Request) -> selectors.HourRange:
    query = AnalyticsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return selectors.HourRange(
        since=query.validated_data.get("from"), until=query.validated_data.get("to")
    )


@extend_schema(
    tags=["analytics"],
    summary="Analytics of every place",
    description="Per place: purchases, average receipt, VAT and tips, spend and average receipt "
    "per category, and the hourly series (hours of the receipts' own timestamps, in the "
    "server's time zone). Paginated over places. Analysts only.",
    parameters=RANGE_PARAMETERS,
    responses={200: PlaceAnalyticsSerializer(many=True), **READ_ERRORS},
)
class AnalyticsListView(generics.GenericAPIView):
    permission_classes = [IsAnalyst]
    serializer_class = PlaceAnalyticsSerializer

    def get_queryset(self) -> QuerySet[Place]:
        return selectors.places()

    def get(self, request: Request) -> Response:
        hours = _hour_range(request)
        page = self.paginate_queryset(self.get_queryset()) or []  # the view is paginated
        data = selectors.place_analytics(places=page, hours=hours)
        return self.get_paginated_response(PlaceAnalyticsSerializer(data, many=True).data)


def _place(place_id: str) -> Place:
    try:
        return selectors.place_by_code(place_id)
    except Place.DoesNotExist:
        raise NoSuchPlace(f"No place with place_id {place_id!r}.") from None


@extend_schema(
    tags=["analytics"],
    summary="Analytics of one place",
    description="The analytics of one place (by its `place_id`), as in the list. Analysts only.",
    parameters=RANGE_PARAMETERS,
    responses={
        200: PlaceAnalyticsSerializer,
        **READ_ERRORS,
        404: OpenApiResponse(description="Unknown place."),
    },
)
class PlaceAnalyticsView(APIView):
    permission_classes = [IsAnalyst]

    def get(self, request: Request, place_id: str) -> Response:
        place = _place(place_id)
        [data] = selectors.place_analytics(places=[place], hours=_hour_range(request))
        return Response(PlaceAnalyticsSerializer(data).data)


class SvgRenderer(BaseRenderer):
    """Lets a client ask for `Accept: image/svg+xml` (or `*/*`); the view renders the SVG."""

    media_type = "image/svg+xml"
    format = "svg"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data or "").encode()


class PlaceChartView(APIView):
    permission_classes = [IsAnalyst]
    renderer_classes = [SvgRenderer, JSONRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON `{detail, code}` whatever the client accepts.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        tags=["analytics"],
        summary="Chart of the last 24 hours of one place (SVG)",
        operation_id="api_analytics_chart_retrieve",
        description="Purchases and takings per hour over the last 24 hours as an SVG bar "
        "chart. Analysts only.",
        responses={
            (200, "image/svg+xml"): OpenApiTypes.STR,
            **READ_ERRORS,
            404: OpenApiResponse(description="Unknown place."),
        },
    )
    def get(self, request: Request, place_id: str) -> HttpResponseBase:
        place = _place(place_id)
        svg = charts.last_day_svg(place=place, series=selectors.last_day_series(place=place))
        return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


class _PointOfSaleUserMixin(APIView):
    permission_classes = [IsOperator]

    def _user(self, user_id: int) -> "User":
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            raise NoSuchUser(f"No user with id {user_id}.")
        return user


@extend_schema(tags=["receipts"])
class PointOfSalePlacesView(_PointOfSaleUserMixin, APIView):
    """The places a point-of-sale user may post receipts for (operators only)."""

    @extend_schema(
        summary="Places assigned to a point of sale",
        description="A point of sale that is not an operator posts receipts only for these "
        "places (403 for any other). Operators only.",
        responses={
            200: PointOfSalePlaceSerializer(many=True),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an operator."),
            404: OpenApiResponse(description="Unknown user."),
        },
    )
    def get(self, request: Request, user_id: int) -> Response:
        places = selectors.point_of_sale_places(self._user(user_id))
        return Response(PointOfSalePlaceSerializer(places, many=True).data)

    @extend_schema(
        summary="Assign a place to a point of sale",
        description="201 when assigned now, 200 when it was already. Operators only.",
        request=PointOfSalePlaceInSerializer,
        responses={
            201: PointOfSalePlaceSerializer,
            200: PointOfSalePlaceSerializer,
            400: OpenApiResponse(description="Bad place_id."),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an operator."),
            404: OpenApiResponse(description="Unknown user."),
        },
    )
    def post(self, request: Request, user_id: int) -> Response:
        user = self._user(user_id)
        data = PointOfSalePlaceInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment, created = points_of_sale.assign_place(
            user=user, place_code=data.validated_data["place_id"], by=request.user
        )
        return Response(
            PointOfSalePlaceSerializer(assignment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PointOfSalePlaceView(_PointOfSaleUserMixin, APIView):
    @extend_schema(
        tags=["receipts"],
        summary="Withdraw a place from a point of sale",
        description="204; 404 when the place was not assigned. Operators only.",
        responses={
            204: None,
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an operator."),
            404: OpenApiResponse(description="Unknown user or place not assigned."),
        },
    )
    def delete(self, request: Request, user_id: int, place_id: str) -> Response:
        if not points_of_sale.unassign_place(user=self._user(user_id), place_code=place_id):
            raise PlaceNotAssigned(f"Place {place_id!r} is not assigned to this point of sale.")
        return Response(status=status.HTTP_204_NO_CONTENT)
