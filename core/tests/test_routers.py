"""core.routers: the one way a route answers with and without its trailing slash."""

import pytest
from django.urls import Resolver404, resolve, reverse
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from core.routers import OptionalSlashRouter, optional_slash


class Things(ViewSet):
    def list(self, request):
        return Response([])

    def retrieve(self, request, pk=None):
        return Response({})


class Thing(APIView):
    def get(self, request, **kwargs):
        return Response({})


def _matches(patterns, url: str) -> bool:
    return any(pattern.resolve(url) for pattern in patterns)


def test_router_routes_answer_with_and_without_the_slash():
    router = OptionalSlashRouter()
    router.register("things", Things, basename="thing")

    for url in ("things", "things/", "things/7", "things/7/"):
        assert _matches(router.urls, url), url
    assert not _matches(router.urls, "things//")


def test_drf_reads_trailing_slash_as_a_boolean_hence_the_router():
    # The trap OptionalSlashRouter avoids: this router still requires the slash.
    router = SimpleRouter(trailing_slash="/?")
    router.register("things", Things, basename="thing")

    assert _matches(router.urls, "things/")
    assert not _matches(router.urls, "things")


@pytest.mark.parametrize(
    ("route", "written", "twin"),
    [
        ("things/<int:pk>/", "things/7/", "things/7"),
        ("things/<int:pk>", "things/7", "things/7/"),
        (r"^things/(?P<pk>[0-9]{1,3})/", "things/7/", "things/7"),
        (r"^things/(?P<pk>[0-9]{1,3})", "things/7", "things/7/"),
    ],
)
def test_a_single_view_answers_both_forms_and_only_the_written_one_is_in_the_schema(
    route, written, twin
):
    canonical, hidden = optional_slash(route, Thing, "thing")

    assert canonical.resolve(written)
    assert not canonical.resolve(twin)
    assert hidden.resolve(twin)
    assert not hidden.resolve(written)
    assert canonical.name == "thing"
    assert hidden.name is None
    assert canonical.callback.view_class.schema is not None
    assert hidden.callback.view_initkwargs == {"schema": None}
    assert not _matches([canonical, hidden], "things/7//")


def test_a_plain_callable_is_served_as_is():
    def app(scope):
        return None

    patterns = optional_slash(r"^ws/things/(?P<pk>[^/]+)", app)

    assert [p.callback for p in patterns] == [app, app]


@pytest.mark.parametrize(
    ("name", "kwargs", "path"),
    [
        ("homes-list", {}, "/api/homes/"),
        ("payment-progress", {"task_id": "abc"}, "/payment/progress/abc/"),
        ("store-list", {}, "/stores"),
        ("receipts-checks", {}, "/api/checks/"),
        ("my-flat", {"flat_id": "7"}, "/api/v1/me/flats/7/"),
    ],
)
def test_the_projects_routes_answer_both_forms(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    twin = path.removesuffix("/") if path.endswith("/") else f"{path}/"
    assert resolve(path).func.view_class is resolve(twin).func.view_class


def test_file_routes_have_no_slash_twin():
    with pytest.raises(Resolver404):
        resolve("/api/analytics/x/chart.svg/")
