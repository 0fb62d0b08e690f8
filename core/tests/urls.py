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


class PrivateView(APIView):
    def get(self, request):
        return Response({"user": request.user.username})


urlpatterns = [
    path("api/test/private/", PrivateView.as_view()),
    path("api/test/echo/", EchoView.as_view()),
    path("api/test/crash/", CrashView.as_view()),
    path("", include("config.urls")),
]
