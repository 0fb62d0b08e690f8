"""A tiny API used only by the error-format tests."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class _Input(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    name = serializers.CharField()


class EchoView(APIView):
    permission_classes = []

    def post(self, request):
        data = _Input(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class CrashView(APIView):
    permission_classes = []

    def get(self, request):
        raise RuntimeError("boom")


# What RaiseView raises: a callable set by the test (see core/tests/test_errors.py).
TO_RAISE = None


class RaiseView(APIView):
    """Raises whatever the test put in TO_RAISE; authenticates like the API (401 + header)."""

    permission_classes = []

    def get(self, request):
        raise TO_RAISE()


class RaiseWithoutAuthView(RaiseView):
    """The same without an authentication scheme: DRF answers 401s as 403 here."""

    authentication_classes = []


class PrivateView(APIView):
    def get(self, request):
        return Response({"user": request.user.username})


urlpatterns = [
    path("api/test/private/", PrivateView.as_view()),
    path("api/test/echo/", EchoView.as_view()),
    path("api/test/crash/", CrashView.as_view()),
    path("api/test/raise/", RaiseView.as_view()),
    path("api/test/raise-without-auth/", RaiseWithoutAuthView.as_view()),
    path("", include("config.urls")),
]
