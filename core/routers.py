"""The one way a route answers with and without its trailing slash.

`OptionalSlashRouter` for viewsets, `optional_slash()` for a single view (HTTP or websocket).
Both keep one form in the OpenAPI schema: the router's shows the slash; `optional_slash()`
shows the route as it is written (the stores API is specified without the slash, the rest of
the API with it).
"""

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path, re_path
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes answer with and without the trailing slash (`/?` in each regex).

    Not `SimpleRouter(trailing_slash="/?")`: DRF reads that argument as a boolean and keeps the
    slash required."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trailing_slash = "/?"


def optional_slash(
    route: str, view: type[APIView] | Callable[..., Any], name: str | None = None
) -> list[URLPattern]:
    """`view` at `route` and at its twin with the trailing slash added or removed.

    `route` is in path() syntax, or a regex when it starts with "^" (without the closing "$").
    The form written is the one named, shown in the schema and given by reverse(); the twin
    answers the same and stays out of the schema. `view` is a DRF view class, or any callable
    (e.g. an ASGI consumer's app)."""
    twin = route.removesuffix("/") if route.endswith("/") else f"{route}/"
    canonical: Any  # a view function or an ASGI app
    hidden: Any
    if isinstance(view, type) and issubclass(view, APIView):
        canonical, hidden = view.as_view(), view.as_view(schema=None)
    else:
        canonical = hidden = view
    make = re_path if route.startswith("^") else path
    end = "$" if route.startswith("^") else ""
    patterns = [make(f"{route}{end}", canonical), make(f"{twin}{end}", hidden)]
    patterns[0].name = name
    return patterns
