"""The resource API (/api/v1/...) over the same services as the compatible endpoints."""

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from core.openapi import OPERATOR_API_ERRORS
from core.permissions import IsOperatorOrReadOnly
from housing import selectors, services
from housing.models import Flat, House, MeterReading, Tariff, WaterMeter
from housing.serializers import (
    BulkReadingsSerializer,
    FlatCreateSerializer,
    FlatSerializer,
    FlatUpdateSerializer,
    HouseCreateSerializer,
    HouseSerializer,
    HouseUpdateSerializer,
    MeterCreateSerializer,
    MeterReplaceSerializer,
    MeterSerializer,
    ReadingCreateSerializer,
    ReadingSerializer,
    ReadingUpdateSerializer,
    TariffSerializer,
    TariffUpdateSerializer,
)

ERRORS = OPERATOR_API_ERRORS


S = TypeVar("S", bound=BaseSerializer[Any])


def _validated(serializer_class: type[S], request: Request, **kwargs: Any) -> S:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer


class RegistryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Reads for any signed-in user, writes for operators; writes go through services."""

    permission_classes = [IsOperatorOrReadOnly]
    delete_kwarg: str  # the keyword under which delete_service takes the object

    def delete_service(self, **kwargs: Any) -> None:
        raise NotImplementedError

    def _answer(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.delete_service(**{self.delete_kwarg: self.get_object()})
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Houses with street and flats (paginated; fixed query count)"),
    retrieve=extend_schema(
        summary="A house with street and flats", responses={200: HouseSerializer, **ERRORS}
    ),
    create=extend_schema(
        summary="Create a house (operator)",
        request=HouseCreateSerializer,
        responses={201: HouseSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Update a house (operator): street, number, add or resize flats",
        request=HouseUpdateSerializer,
        responses={200: HouseSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a house and everything in it (operator)", responses={204: None, **ERRORS}
    ),
)
class HouseViewSet(RegistryViewSet):
    serializer_class = HouseSerializer
    filterset_fields = {"street__name": ["exact"], "number": ["exact"]}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_kwarg = "house"

    def get_queryset(self) -> QuerySet[House]:
        return selectors.houses_with_flats()

    def delete_service(self, **kwargs: Any) -> None:
        services.delete_house(**kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = _validated(HouseCreateSerializer, request)
        house = services.create_house(**body.service_kwargs())
        return self._answer(house, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = _validated(HouseUpdateSerializer, request, partial=True)
        house = services.update_house(house=self.get_object(), **body.service_kwargs())
        return self._answer(house)


@extend_schema_view(
    list=extend_schema(summary="Flats (filter by house)"),
    retrieve=extend_schema(summary="A flat", responses={200: FlatSerializer, **ERRORS}),
    create=extend_schema(
        summary="Add a flat to a house (operator)",
        request=FlatCreateSerializer,
        responses={201: FlatSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Renumber or resize a flat (operator)",
        request=FlatUpdateSerializer,
        responses={200: FlatSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Delete a flat (operator)", responses={204: None, **ERRORS}),
)
class FlatViewSet(RegistryViewSet):
    serializer_class = FlatSerializer
    filterset_fields = ["house", "number"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_kwarg = "flat"

    def get_queryset(self) -> QuerySet[Flat]:
        return selectors.flat_list()

    def delete_service(self, **kwargs: Any) -> None:
        services.delete_flat(**kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(FlatCreateSerializer, request).validated_data
        return self._answer(services.create_flat(**data), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(FlatUpdateSerializer, request).validated_data
        return self._answer(services.update_flat(flat=self.get_object(), **data))


@extend_schema_view(
    list=extend_schema(summary="Water meters (filter by flat, house, serial)"),
    retrieve=extend_schema(summary="A water meter", responses={200: MeterSerializer, **ERRORS}),
    create=extend_schema(
        summary="Install a meter in a flat (operator)",
        request=MeterCreateSerializer,
        responses={201: MeterSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a meter entered by mistake, with its readings (operator)",
        responses={204: None, **ERRORS},
    ),
    replace=extend_schema(
        summary="Replace a meter (operator)",
        description="Closes this meter on `removed_on` (storing `final_value` as its reading "
        "for that month when given) and installs a new one that counts from "
        "`new_initial_value`. Answers the new meter.",
        request=MeterReplaceSerializer,
        responses={201: MeterSerializer, **ERRORS},
    ),
)
class MeterViewSet(RegistryViewSet):
    serializer_class = MeterSerializer
    filterset_fields = {"flat": ["exact"], "flat__house": ["exact"], "serial": ["exact"]}
    http_method_names = ["get", "post", "delete", "head", "options"]
    delete_kwarg = "meter"

    def get_queryset(self) -> QuerySet[WaterMeter]:
        return selectors.meter_list()

    def delete_service(self, **kwargs: Any) -> None:
        services.delete_meter(**kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(MeterCreateSerializer, request).validated_data
        return self._answer(services.create_meter(**data), status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def replace(self, request: Request, pk: str | None = None) -> Response:
        data = _validated(MeterReplaceSerializer, request).validated_data
        new_meter = services.replace_meter(meter=self.get_object(), **data)
        return self._answer(new_meter, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Meter readings (filter by house, flat, meter, year, month)"),
    retrieve=extend_schema(summary="A meter reading", responses={200: ReadingSerializer, **ERRORS}),
    create=extend_schema(
        summary="Record one meter's reading for a month (operator)",
        description="A value below the meter's earlier reading (or above a later one) is a 400.",
        request=ReadingCreateSerializer,
        responses={201: ReadingSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Correct a reading (operator)",
        request=ReadingUpdateSerializer,
        responses={200: ReadingSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Delete a reading (operator)", responses={204: None, **ERRORS}),
    bulk=extend_schema(
        summary="Enter a month's readings for a house (operator)",
        description="All or nothing. Each item names a flat by number, and its meter by "
        "`serial` when the flat has several (a flat with none gets one installed).",
        request=BulkReadingsSerializer,
        responses={201: ReadingSerializer(many=True), **ERRORS},
    ),
)
class ReadingViewSet(RegistryViewSet):
    serializer_class = ReadingSerializer
    filterset_fields = {
        "meter": ["exact"],
        "meter__flat": ["exact"],
        "meter__flat__house": ["exact"],
        "year": ["exact"],
        "month": ["exact"],
    }
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_kwarg = "reading"

    def get_queryset(self) -> QuerySet[MeterReading]:
        return selectors.reading_list()

    def delete_service(self, **kwargs: Any) -> None:
        services.delete_reading(**kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(ReadingCreateSerializer, request).validated_data
        (reading,) = services.record_readings(
            entries=[(data["meter"], data["value"])], year=data["year"], month=data["month"]
        )
        return self._answer(reading, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(ReadingUpdateSerializer, request, partial=True).validated_data
        reading = self.get_object()
        if "value" not in data:  # nothing to change (a PATCH's fields are all optional)
            return self._answer(reading)
        return self._answer(services.update_reading(reading=reading, **data))

    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        body = _validated(BulkReadingsSerializer, request)
        data = body.validated_data
        readings = services.record_house_readings(
            house=data["house"], year=data["year"], month=data["month"], readings=body.specs()
        )
        stored = self.get_queryset().filter(pk__in=[r.pk for r in readings])
        return Response(ReadingSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Tariffs (filter by kind, house)"),
    retrieve=extend_schema(summary="A tariff", responses={200: TariffSerializer, **ERRORS}),
    create=extend_schema(
        summary="Set a tariff (operator)",
        description="`house` empty: a global tariff. A house's own tariff beats the global one. "
        "The tariff in force on a month's first day prices that month.",
        responses={201: TariffSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Correct a tariff (operator)",
        request=TariffUpdateSerializer,
        responses={200: TariffSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Delete a tariff (operator)", responses={204: None, **ERRORS}),
)
class TariffViewSet(RegistryViewSet):
    serializer_class = TariffSerializer
    filterset_fields = ["kind", "house"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_kwarg = "tariff"

    def get_queryset(self) -> QuerySet[Tariff]:
        return selectors.tariff_list()

    def delete_service(self, **kwargs: Any) -> None:
        services.delete_tariff(**kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(TariffSerializer, request).validated_data
        return self._answer(services.create_tariff(**data), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(TariffUpdateSerializer, request).validated_data
        return self._answer(services.update_tariff(tariff=self.get_object(), **data))
