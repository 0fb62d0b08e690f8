"""The residents API: /api/v1/me/... for residents (only their own flats: anything else is a
404), and the operators' residency, flat code, collection account, readings and payments views.
"""

from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from accounts.models import User
from accounts.requests import AuthenticatedRequest
from billing.models import Charge
from billing.statements import house_statement_xlsx
from core.idempotency import idempotent
from core.openapi import XLSX_CONTENT_TYPE, api_error
from core.permissions import IsOperator
from housing.models import Flat, House
from residents import selectors, services
from residents import serializers as s
from residents.models import FlatCode, Residency
from residents.statements import debtors_xlsx

TAG = ["residents"]


ERR_400 = api_error("Bad input: {detail, code, <field>: [...]}; nothing changed.")
ERR_401 = api_error("Not signed in.")
ERR_403 = api_error("Not an operator (staff).")
ERR_404 = api_error("Not one of your flats / meters / readings / charges (or no such object).")
RESIDENT_ERRORS = {400: ERR_400, 401: ERR_401, 404: ERR_404}
OPERATOR_ERRORS = {400: ERR_400, 401: ERR_401, 403: ERR_403, 404: ERR_404}
READING_409 = api_error(
    "Outside the reading window (`code` outside_reading_window, with `window` {opens, closes}), "
    "or the month's rent run has started (`rent_started`), or not this month's reading "
    "(`reading_closed`).",
    s.ReadingWindowErrorSerializer,
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key replays the first answer instead of paying again.",
)
YEAR_MONTH = [s.MonthQuerySerializer]


def _valid(serializer_class: type[BaseSerializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- residents -------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=TAG,
        summary="My flats with their meters and last readings",
        description="The flats I live in (linked by an operator or by a redeemed flat code); "
        "each meter with its newest reading and who submitted it.",
        responses={200: s.MyFlatSerializer(many=True), 401: ERR_401},
    ),
)
class MyFlatListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.MyFlatSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Flat]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Flat.objects.none()
        return selectors.my_flats(user=cast(User, self.request.user))  # IsAuthenticated


class MyFlatDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="One of my flats",
        description="404 for a flat I do not live in.",
        responses={200: s.MyFlatSerializer, 401: ERR_401, 404: ERR_404},
    )
    def get(self, request: AuthenticatedRequest, flat_id: int) -> Response:
        return Response(
            s.MyFlatSerializer(selectors.my_flat(user=request.user, flat_id=flat_id)).data
        )


class RedeemFlatCodeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="Become a resident with a flat code",
        description="Redeems a one-time flat code (from the operator) before it expires; I "
        "become a resident of its flat. Unknown code: 404; used or expired: 409.",
        request=s.RedeemSerializer,
        responses={
            201: s.MyFlatSerializer,
            **RESIDENT_ERRORS,
            409: api_error(
                "The code was used already (`code_used`) or has expired (`code_expired`)."
            ),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _valid(s.RedeemSerializer, request.data)
        residency = services.redeem_flat_code(user=request.user, code=data["code"])
        flat = selectors.my_flat(user=request.user, flat_id=residency.flat_id)
        return Response(s.MyFlatSerializer(flat).data, status=status.HTTP_201_CREATED)


class MyReadingListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="My flats' readings, newest first",
        responses={200: s.ResidentReadingSerializer(many=True), 401: ERR_401},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        readings = selectors.my_readings(user=request.user)[:500]
        return Response(s.ResidentReadingSerializer(readings, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Submit this month's reading of one of my meters",
        description="Only inside the reading window (READINGS_WINDOW_DAYS, default the 15th to "
        "the 25th) and before the month's rent run has started. The operators' rules apply: "
        "the value may not be below earlier readings (400), one reading per meter and month "
        "(400; correct it with PATCH).",
        request=s.ResidentReadingCreateSerializer,
        responses={201: s.ResidentReadingSerializer, **RESIDENT_ERRORS, 409: READING_409},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _valid(s.ResidentReadingCreateSerializer, request.data)
        reading = services.submit_reading(
            user=request.user, meter_id=data["meter"], value=data["value"]
        )
        reading = selectors.my_readings(user=request.user).get(pk=reading.pk)
        return Response(s.ResidentReadingSerializer(reading).data, status=status.HTTP_201_CREATED)


class MyReadingDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="Correct this month's reading of one of my meters",
        description="Same window and rules as submitting; a reading of another month, or once "
        "the month's rent run has started: 409.",
        request=s.ResidentReadingUpdateSerializer,
        responses={200: s.ResidentReadingSerializer, **RESIDENT_ERRORS, 409: READING_409},
    )
    def patch(self, request: AuthenticatedRequest, reading_id: int) -> Response:
        data = _valid(s.ResidentReadingUpdateSerializer, request.data)
        reading = services.correct_reading(
            user=request.user, reading_id=reading_id, value=data["value"]
        )
        reading = selectors.my_readings(user=request.user).get(pk=reading.pk)
        return Response(s.ResidentReadingSerializer(reading).data)


@extend_schema_view(
    get=extend_schema(
        tags=TAG,
        summary="My flats' charges, month by month",
        description="Lines water, upkeep, total, with what is paid and still due. Filters: "
        "`year`, `month`, `flat`.",
        parameters=[s.ChargesQuerySerializer],
        responses={200: s.MyChargeSerializer(many=True), 400: ERR_400, 401: ERR_401},
    ),
)
class MyChargeListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.MyChargeSerializer

    def get_queryset(self) -> QuerySet[Charge]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Charge.objects.none()
        query = _valid(s.ChargesQuerySerializer, self.request.query_params)
        return selectors.my_charges(user=cast(User, self.request.user), **query)  # signed in


class MyChargeDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="One charge of my flats",
        responses={200: s.MyChargeSerializer, 401: ERR_401, 404: ERR_404},
    )
    def get(self, request: AuthenticatedRequest, charge_id: int) -> Response:
        return Response(
            s.MyChargeSerializer(selectors.my_charge(user=request.user, charge_id=charge_id)).data
        )


class PayChargeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="Pay a charge from my balance",
        description="Moves `amount` (default: everything due) from my account to the house's "
        "collection account as one ledger movement of kind `rent`, and marks the charge paid or "
        "partly paid in the same transaction. `Idempotency-Key` is honoured.",
        request=s.PayInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.ChargePaymentSerializer,
            **RESIDENT_ERRORS,
            402: api_error("Not enough money on my balance; nothing changed."),
            409: api_error(
                "Already paid (`charge_paid`), more than due (`overpayment`), no account "
                "opened (`no_account`) or no collection account set (`no_collection_account`)."
            ),
            422: api_error("The Idempotency-Key was used with a different request."),
            503: api_error("The accounts stayed locked too long; retry (Retry-After)."),
        },
    )
    @idempotent
    def post(self, request: Request, charge_id: int) -> Response:
        data = _valid(s.PayInputSerializer, request.data)
        payment = services.pay_charge(
            user=request.user, charge_id=charge_id, amount=data.get("amount")
        )
        return Response(s.ChargePaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class MyStatementView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="xlsx statement of one of my flats for a month",
        parameters=YEAR_MONTH,
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The workbook (my flat's line only)."
            ),
            **RESIDENT_ERRORS,
        },
    )
    def get(self, request: AuthenticatedRequest, flat_id: int) -> HttpResponseBase:
        flat = selectors.my_flat(user=request.user, flat_id=flat_id)
        query = _valid(s.MonthQuerySerializer, request.query_params)
        content = house_statement_xlsx(house=flat.house, flat=flat, **query)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        filename = f"rent-flat-{flat.pk}-{query['year']}-{query['month']:02d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- operators -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=TAG, summary="Residencies: who lives in which flat (operator)"),
)
class ResidencyViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsOperator]
    serializer_class = s.ResidencySerializer
    filterset_fields = ["flat", "user", "flat__house"]

    def get_queryset(self) -> QuerySet[Residency]:
        return selectors.residencies()

    @extend_schema(
        tags=TAG,
        summary="Link a user to a flat (operator)",
        description="201 with a new residency; 200 with the existing one when already linked.",
        responses={201: s.ResidencySerializer, 200: s.ResidencySerializer, **OPERATOR_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.ResidencySerializer, request.data)
        residency, created = services.link_resident(
            flat=data["flat"], user=data["user"], by=request.user
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.ResidencySerializer(residency).data, status=code)

    @extend_schema(
        tags=TAG,
        summary="Unlink a resident from a flat (operator)",
        responses={204: None, **OPERATOR_ERRORS},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.unlink_resident(residency=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=TAG, summary="Flat codes handed out (operator)"),
)
class FlatCodeViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsOperator]
    serializer_class = s.FlatCodeSerializer
    filterset_fields = ["flat"]

    def get_queryset(self) -> QuerySet[FlatCode]:
        return selectors.flat_codes()

    @extend_schema(
        tags=TAG,
        summary="Hand out a one-time flat code (operator)",
        description="The code makes whoever redeems it (signed in) a resident of the flat; it "
        "works once and expires after FLAT_CODE_TTL_HOURS (default 72).",
        responses={201: s.FlatCodeSerializer, **OPERATOR_ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.FlatCodeSerializer, request.data)
        code = services.create_flat_code(flat=data["flat"], by=request.user)
        return Response(s.FlatCodeSerializer(code).data, status=status.HTTP_201_CREATED)


def _house(house_id: int) -> House:
    return get_object_or_404(House.objects.select_related("street"), pk=house_id)


class CollectionAccountView(APIView):
    permission_classes = [IsOperator]

    def _answer(self, house: House) -> Response:
        own = getattr(house, "collection_account", None)
        return Response(
            {
                "house": house.pk,
                "account": own.account_id if own else None,
                "effective_account": services.collection_account_id(house.pk),
            }
        )

    @extend_schema(
        tags=TAG,
        summary="Where a house's rent is paid to (operator)",
        responses={200: s.CollectionAccountAnswerSerializer, **OPERATOR_ERRORS},
    )
    def get(self, request: Request, house_id: int) -> Response:
        return self._answer(_house(house_id))

    @extend_schema(
        tags=TAG,
        summary="Designate a house's collection account (operator)",
        description="`account` null drops the house's own one (RENT_COLLECTION_ACCOUNT_ID, the "
        "global one, then applies).",
        request=s.CollectionAccountSerializer,
        responses={200: s.CollectionAccountAnswerSerializer, **OPERATOR_ERRORS},
    )
    def put(self, request: Request, house_id: int) -> Response:
        house = _house(house_id)
        data = _valid(s.CollectionAccountSerializer, request.data)
        services.set_collection_account(house=house, account=data["account"])
        return self._answer(_house(house_id))


class HouseReadingsView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=TAG,
        summary="A house's readings of a month: who submitted each, flats with none (operator)",
        description="`submitted_by` is the resident's user id, null when an operator entered it.",
        parameters=YEAR_MONTH,
        responses={200: s.HouseReadingsSerializer, **OPERATOR_ERRORS},
    )
    def get(self, request: Request, house_id: int) -> Response:
        house = _house(house_id)
        query = _valid(s.MonthQuerySerializer, request.query_params)
        data = selectors.house_readings(house=house, **query)
        return Response(s.HouseReadingsSerializer(data).data)


class HousePaymentsView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=TAG,
        summary="A house's payments of a month: paid, partly paid, unpaid, debt, debtors "
        "(operator)",
        parameters=YEAR_MONTH,
        responses={200: s.HousePaymentsSerializer, **OPERATOR_ERRORS},
    )
    def get(self, request: Request, house_id: int) -> Response:
        house = _house(house_id)
        query = _valid(s.MonthQuerySerializer, request.query_params)
        return Response(
            s.HousePaymentsSerializer(selectors.house_payments(house=house, **query)).data
        )


class HouseDebtorsXlsxView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=TAG,
        summary="xlsx of a house's debtors for a month (operator)",
        parameters=YEAR_MONTH,
        responses={
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The workbook."
            ),
            **OPERATOR_ERRORS,
        },
    )
    def get(self, request: Request, house_id: int) -> HttpResponseBase:
        house = _house(house_id)
        query = _valid(s.MonthQuerySerializer, request.query_params)
        content = debtors_xlsx(house=house, **query)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        filename = f"debtors-house-{house.pk}-{query['year']}-{query['month']:02d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
