"""HTTP layer of the balances API: parse, call a service or selector, serialize."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from accounts.balances import selectors, services
from accounts.balances import serializers as s
from accounts.balances.errors import NoSuchService
from accounts.models import Account, Movement, Service
from core.idempotency import idempotent
from core.openapi import api_error
from core.permissions import HeaderAuthForSafeMethods, IsOperatorOrReadOnly

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (e.g. a UUID). A retry with the same key and body returns "
    "the first answer and changes nothing; the same key with another body answers 422. "
    "Keys are kept IDEMPOTENCY_KEY_TTL_HOURS (default 48).",
)
CURRENCY = OpenApiParameter(
    "currency",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="ISO 4217 code (USD, EUR, CNY, ...): the balance is converted with the newest "
    "rate, and `rate` (roubles per unit) and `rate_date` are added. Unknown code: 400; a "
    "currency without a stored rate: 503.",
)


ERR_400 = api_error("Bad input (amount not > 0, more than 2 decimals, over the maximum, ...).")
ERR_402 = api_error(
    "Not enough money; nothing changed.",
    example={
        "detail": "Not enough money: the balance is 502.50, 100000.00 is needed.",
        "code": "insufficient_funds",
    },
)
ERR_404 = api_error("No such account of yours (or no such target account / service).")
ERR_409 = api_error("Conflict: the balance would exceed its maximum, or no account opened yet.")
ERR_422 = api_error("The Idempotency-Key was already used with a different request.")
ERR_503 = api_error("The account stayed locked by other operations too long; retry (Retry-After).")
WRITE_ERRORS = {400: ERR_400, 402: ERR_402, 404: ERR_404, 409: ERR_409, 422: ERR_422, 503: ERR_503}


def _converting_context(view: APIView) -> dict[str, Any]:
    query = s.CurrencyQuerySerializer(data=view.request.query_params)
    query.is_valid(raise_exception=True)
    currency = query.validated_data.get("currency")
    if not currency:
        return {}
    return {"rate": selectors.latest_rate(currency=currency)}


@extend_schema_view(
    get=extend_schema(
        tags=["balances"],
        summary="My accounts",
        description="My rouble account(s). With `?currency=USD` balances are converted.",
        parameters=[CURRENCY],
        responses={
            200: s.AccountSerializer(many=True),
            400: api_error("Unknown currency code."),
            503: api_error("No exchange rate is stored for this currency yet."),
        },
    ),
)
class AccountListView(generics.ListAPIView):
    queryset = Account.objects.none()  # schema generation only
    serializer_class = s.AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.accounts_of(user=self.request.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), **_converting_context(self)}

    @extend_schema(
        tags=["balances"],
        summary="Open my account",
        description="Creates my rouble account (201, balance 0.00). A user has one account: "
        "calling again returns it with 200.",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: OpenApiResponse(s.AccountSerializer, description="Already open."),
            201: OpenApiResponse(s.AccountSerializer, description="Opened."),
        },
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account, created = services.open_account(user=request.user)
        return Response(
            s.AccountSerializer(account).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema_view(
    get=extend_schema(
        tags=["balances"],
        summary="One of my accounts",
        parameters=[CURRENCY],
        responses={
            200: s.AccountSerializer,
            400: api_error("Unknown currency code."),
            404: api_error("No such account of yours."),
            503: api_error("No exchange rate is stored for this currency yet."),
        },
    ),
)
class AccountDetailView(generics.RetrieveAPIView):
    queryset = Account.objects.none()  # schema generation only
    serializer_class = s.AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.accounts_of(user=self.request.user)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), **_converting_context(self)}


@extend_schema_view(
    get=extend_schema(tags=["balances"], summary="My deposits", description="Newest first."),
)
class DepositListCreateView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.DepositSerializer

    def get_queryset(self) -> QuerySet[Movement]:
        return selectors.deposits_of(user=self.request.user)

    @extend_schema(
        tags=["balances"],
        summary="Deposit to my account",
        description="Credits `amount` roubles to one of my accounts.",
        request=s.DepositInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.DepositSerializer, **WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.DepositInputSerializer, request)
        movement = services.deposit(
            user=request.user,
            account_id=data["account"],
            amount=data["amount"],
            comment=data["comment"],
        )
        return Response(s.DepositSerializer(movement).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["balances"], summary="My withdrawals", description="Newest first."),
)
class WithdrawalListCreateView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.WithdrawalSerializer

    def get_queryset(self) -> QuerySet[Movement]:
        return selectors.withdrawals_of(user=self.request.user)

    @extend_schema(
        tags=["balances"],
        summary="Withdraw from my account",
        description="Debits `amount` roubles; refused with 402 (nothing changes) when the "
        "balance is lower.",
        request=s.WithdrawalInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.WithdrawalSerializer, **WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.WithdrawalInputSerializer, request)
        movement = services.withdraw(
            user=request.user,
            account_id=data["account"],
            amount=data["amount"],
            comment=data["comment"],
        )
        return Response(s.WithdrawalSerializer(movement).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=["balances"], summary="Service catalogue"),
    retrieve=extend_schema(
        tags=["balances"], summary="One service", responses={200: s.ServiceSerializer}
    ),
    create=extend_schema(tags=["balances"], summary="Add a service (operators)"),
    update=extend_schema(tags=["balances"], summary="Change a service (operators)"),
    partial_update=extend_schema(tags=["balances"], summary="Change a service partly (operators)"),
    destroy=extend_schema(
        tags=["balances"],
        summary="Archive a service (operators)",
        description="Hides it from the catalogue; past purchases keep pointing at it.",
    ),
)
class ServiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The catalogue. Everyone signed in reads it and buys; operators manage it."""

    serializer_class = s.ServiceSerializer
    permission_classes = [IsOperatorOrReadOnly]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Service]:
        return selectors.services_catalogue()

    def get_permissions(self):
        if self.action == "purchase":
            return [IsAuthenticated(), HeaderAuthForSafeMethods()]
        return super().get_permissions()

    def perform_destroy(self, instance: Service) -> None:
        services.archive_service(service=instance)

    @extend_schema(
        methods=["POST"],
        tags=["balances"],
        summary="Buy a service",
        description="Debits the service's price from my account; each call is a new purchase. "
        "402 (nothing changes) when the balance is lower.",
        request=s.PurchaseInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.PurchaseSerializer, **WRITE_ERRORS},
    )
    @extend_schema(
        methods=["GET"],
        tags=["balances"],
        summary="Buy a service (GET, kept for compatibility)",
        description="Same as POST, kept because existing clients buy with a GET. "
        "New clients should POST. A comment may come as `?comment=`. "
        "Only with an `Authorization` header (Token or Bearer): with a session cookie alone "
        "it answers 403 `header_auth_required` and buys nothing (a cross-site `<img>` must "
        "not spend money).",
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter("comment", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False),
        ],
        responses={
            201: s.PurchaseSerializer,
            **WRITE_ERRORS,
            403: api_error("Signed in by session cookie alone: send a Token or Bearer header."),
        },
    )
    @action(detail=True, methods=["get", "post"])
    @idempotent
    def purchase(self, request: Request, pk: str) -> Response:
        source = request.query_params if request.method == "GET" else request.data
        data = _valid(s.PurchaseInputSerializer, request, data=source)
        movement = services.purchase(
            user=request.user, service_id=_service_id(pk), comment=data["comment"]
        )
        return Response(s.PurchaseSerializer(movement).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=["balances"], summary="My purchases", description="Newest first."),
)
class PurchaseListView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.PurchaseSerializer

    def get_queryset(self) -> QuerySet[Movement]:
        return selectors.purchases_of(user=self.request.user)


@extend_schema_view(
    get=extend_schema(
        tags=["balances"], summary="Transfers from my account", description="Newest first."
    ),
)
class TransferListCreateView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.TransferSerializer

    def get_queryset(self) -> QuerySet[Movement]:
        return selectors.outgoing_transfers_of(user=self.request.user)

    @extend_schema(
        tags=["balances"],
        summary="Transfer to another account",
        description="Moves `amount` from my account to any other account in one transaction. "
        "402 (nothing changes) when my balance is lower; same account: 400; unknown "
        "target: 404.",
        request=s.TransferInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.TransferSerializer, **WRITE_ERRORS},
    )
    @idempotent
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.TransferInputSerializer, request)
        movement = services.transfer(
            user=request.user,
            from_account_id=data["from_account"],
            to_account_id=data["to_account"],
            amount=data["amount"],
            comment=data["comment"],
        )
        return Response(s.transfer_data(movement), status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        tags=["balances"], summary="Transfers to my account", description="Newest first."
    ),
)
class IncomingTransferListView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.TransferSerializer

    def get_queryset(self) -> QuerySet[Movement]:
        return selectors.incoming_transfers_of(user=self.request.user)


@extend_schema_view(
    get=extend_schema(
        tags=["balances"],
        summary="History of all my movements",
        description="Deposits, withdrawals, purchases and transfers in and out, newest first "
        "by default. `amount` is always positive (roubles); `direction` says in or out, and "
        "`ordering=amount` sorts by that amount. Orderings are stable (ties broken by id), so "
        "pages never overlap. With `?currency=USD` each entry adds `converted`: the amount at "
        "the rate of the movement's day.",
        parameters=[s.HistoryQuerySerializer],
        responses={
            200: s.HistoryEntrySerializer(many=True),
            400: api_error("Unknown ordering, type or currency code."),
            503: api_error("No exchange rate is stored for this currency yet."),
        },
    ),
)
class HistoryView(generics.ListAPIView):
    queryset = Movement.objects.none()  # schema generation only
    serializer_class = s.HistoryEntrySerializer
    query_serializer_class = s.HistoryQuerySerializer

    def _query(self) -> dict:
        query = self.query_serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data

    def get_queryset(self) -> QuerySet[Movement]:
        query = self._query()
        return selectors.history_of(
            user=self.request.user, ordering=query["ordering"], kind=query.get("type")
        )

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        currency = self._query().get("currency")
        if currency:
            context["rates"] = selectors.rate_history(currency=currency)
        return context


def _valid(
    serializer_class: type[BaseSerializer[Any]], request: Request, data: Any = None
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if data is None else data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _service_id(pk: str) -> int:
    # The URL only lets digits through; a number beyond bigint cannot name a service.
    value = int(pk)
    if value > s.MAX_ID:
        raise NoSuchService()
    return value
