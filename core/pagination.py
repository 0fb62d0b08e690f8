from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from rest_framework import exceptions, pagination
from rest_framework.request import Request


def _query_int(
    request: Request, name: str, *, minimum: int, maximum: int | None = None
) -> int | None:
    """An optional integer query parameter, or a 400 saying what is wrong with it."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise exceptions.ValidationError({name: ["Give this parameter once."]})
    raw = values[0].strip()
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 12:
        raise exceptions.ValidationError({name: ["A valid integer is required."]})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise exceptions.ValidationError({name: [f"Must be {bounds}."]})
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number pagination with a client-chosen `page_size` up to a maximum.

    Unlike DRF's, a malformed `page` or `page_size` is a 400 (not silently the default), so the
    schema's bounds are what the code enforces; a page past the last one is a 404.
    """

    page_size_query_param = "page_size"

    # The stubs declare a plain attribute; here it is read from the settings on each use.
    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        size: int = settings.API_MAX_PAGE_SIZE
        return size

    def get_page_size(self, request: Request) -> int | None:
        size = _query_int(
            request, self.page_size_query_param, minimum=1, maximum=self.max_page_size
        )
        return size or self.page_size

    def get_page_number(self, request: Request, paginator: "Paginator[Any]") -> int:
        return _query_int(request, self.page_query_param, minimum=1) or 1

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            schema["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                schema["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Results per page (1-{self.max_page_size}, default {self.page_size})."
                )
            else:
                schema["maximum"] = 10**12 - 1
                parameter["description"] = "Page number (from 1); past the last page: 404."
        return parameters
