"""The compatible housing endpoints. Thin: parse, call housing services/selectors, render."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.parsers import JSONParser
from core.permissions import IsOperator, IsOperatorOrReadOnly
from housing import selectors, services
from housing.compat.serializers import (
    HomeAddressQuerySerializer,
    HomeInSerializer,
    HomeOutSerializer,
    WaterCheckerFilterSerializer,
    WaterCheckerInSerializer,
    WaterCheckerOutSerializer,
)
from housing.models import House
from housing.services import ReadingSpec

TAGS = ["Houses and flats"]

ERRORS = {
    400: OpenApiResponse(description="Validation error: `{detail, code, <field>: [...]}`"),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in, but not an operator (staff)."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such house.")}
ADDRESS_PARAMS = [HomeAddressQuerySerializer]
FLAT_NUMBERS = r"^[1-9]\d{0,5}(,[1-9]\d{0,5})*$"


def _house_from_query(request: Request) -> House:
    query = HomeAddressQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return selectors.get_house_by_address(
        number=query.validated_data["home_number"],
        street_name=query.validated_data["street_name"],
    )


def _render_house(house_id: int) -> dict:
    return HomeOutSerializer(selectors.houses_with_flats().get(pk=house_id)).data


class HomeListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="homes_list",
        summary="All houses with street and flats",
        description="Compatible endpoint: a plain JSON array of every house (not paginated; "
        "the paginated list is GET /api/v1/houses/). A constant number of queries whatever "
        "the size.",
        responses={200: HomeOutSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request: Request) -> Response:
        return Response(HomeOutSerializer(selectors.houses_with_flats(), many=True).data)


class HomeDetailsView(APIView):
    permission_classes = [IsOperatorOrReadOnly]

    @extend_schema(
        tags=TAGS,
        operation_id="homes_details_retrieve",
        summary="One house by number and street",
        parameters=ADDRESS_PARAMS,
        responses={200: HomeOutSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        return Response(HomeOutSerializer(_house_from_query(request)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="homes_details_update",
        summary="Partially update a house (operator)",
        description="Every body field is optional. `street.street_name` moves the house to that "
        "street (created if new; other houses stay where they are), `house_number` renumbers "
        "it, `flats` adds the flats it lacks and resizes the ones it has (flats not listed are "
        "kept). PATCH does the same.",
        parameters=ADDRESS_PARAMS,
        request=HomeInSerializer(partial=True),
        responses={200: HomeOutSerializer, **ERRORS, **NOT_FOUND},
    )
    def put(self, request: Request) -> Response:
        house = _house_from_query(request)
        body = HomeInSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        house = services.update_house(house=house, **body.service_kwargs())
        return Response(_render_house(house.pk))

    @extend_schema(
        tags=TAGS,
        operation_id="homes_details_partial_update",
        summary="Partially update a house (operator); same as PUT",
        parameters=ADDRESS_PARAMS,
        request=HomeInSerializer,
        responses={200: HomeOutSerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request: Request) -> Response:
        return self.put(request)

    @extend_schema(
        tags=TAGS,
        operation_id="homes_details_destroy",
        summary="Delete a house with its flats, meters, readings and charges (operator)",
        parameters=ADDRESS_PARAMS,
        responses={204: None, **ERRORS, **NOT_FOUND},
    )
    def delete(self, request: Request) -> Response:
        services.delete_house(house=_house_from_query(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HomeCreateView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=TAGS,
        operation_id="homes_create",
        summary="Create a house with its flats (operator)",
        description="The street is created when new. `water_checkers_count` of a flat installs "
        "that many meters (serials generated). A house number already on that street is a 400.",
        request=HomeInSerializer,
        responses={201: HomeOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = HomeInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        house = services.create_house(**body.service_kwargs())
        return Response(_render_house(house.pk), status=status.HTTP_201_CREATED)


class WaterCheckerCreateView(APIView):
    permission_classes = [IsOperator]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="water_checkers_create",
        summary="Record a month's meter reading for one or more flats (operator)",
        description="Form-data or JSON. `flat` or comma-separated `flats` (each gets "
        "`water_amount`, the cumulative meter value). Without `serial`, a flat with one meter "
        "uses it, a flat with none gets one installed, a flat with several is a 400 asking for "
        "the serial. A value below the meter's earlier reading is a 400 (record a meter "
        "replacement: POST /api/v1/meters/{id}/replace/). One flat answers an object, several "
        "flats a JSON array of such objects. `home` is the house number; add `street_name` "
        "when several streets have it.",
        request={
            "application/json": WaterCheckerInSerializer,
            "application/x-www-form-urlencoded": WaterCheckerInSerializer,
            "multipart/form-data": WaterCheckerInSerializer,
        },
        responses={201: WaterCheckerOutSerializer, **ERRORS, **NOT_FOUND},
    )
    def post(self, request: Request) -> Response:
        body = WaterCheckerInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        house = selectors.find_house(number=data["home"], street_name=data.get("street_name"))
        readings = services.record_house_readings(
            house=house,
            year=data["year"],
            month=data["month"],
            readings=[
                ReadingSpec(flat_number=n, value=data["water_amount"], serial=data.get("serial"))
                for n in data["flat_numbers"]
            ],
        )
        saved = selectors.reading_list().filter(pk__in=[r.pk for r in readings])
        out = WaterCheckerOutSerializer(saved, many=True).data
        return Response(out[0] if len(out) == 1 else out, status=status.HTTP_201_CREATED)


class WaterCheckerDetailsView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="water_checkers_details",
        summary="Meter readings filtered by house, flats, year, month",
        description="Filters come from the query string (conventional) or, as older clients send "
        "them, from form-data in the GET body; the query string wins. A JSON array of "
        "readings, one per meter and month; no match is 200 []. An unknown house is a 404.",
        parameters=[
            WaterCheckerFilterSerializer(exclude_flats=True),
            OpenApiParameter(
                "flats",
                {"type": "string", "pattern": FLAT_NUMBERS},
                description="Flat numbers separated by commas, e.g. `1,2,3`.",
            ),
        ],
        request=None,
        responses={200: WaterCheckerOutSerializer(many=True), **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        raw = dict(request.data.items()) if hasattr(request.data, "items") else {}
        raw.update(request.query_params.dict())
        filters = WaterCheckerFilterSerializer(data=raw)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        house = None
        if "home" in data:
            house = selectors.find_house(number=data["home"], street_name=data.get("street_name"))
        elif data.get("street_name"):
            raise ValidationError({"home": ["Give the house number with `street_name`."]})
        numbers = list(data.get("flats") or []) + ([data["flat"]] if "flat" in data else [])
        readings = selectors.readings_matching(
            house=house, flat_numbers=numbers, year=data.get("year"), month=data.get("month")
        )
        return Response(WaterCheckerOutSerializer(readings, many=True).data)
