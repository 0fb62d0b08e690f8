from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from billing import views
from billing.compat import views as compat

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("rent-runs", views.RentRunViewSet, basename="rent-run")
router.register("charges", views.ChargeViewSet, basename="charge")

# The compatible endpoints answer with and without the trailing slash.
urlpatterns = [
    re_path(r"^payment/calculate/?$", compat.CalculateView.as_view(), name="payment-calculate"),
    re_path(
        r"^payment/progress/(?P<task_id>[^/]+)/?$",
        compat.ProgressView.as_view(),
        name="payment-progress",
    ),
    path("api/v1/", include(router.urls)),
    re_path(
        r"^api/v1/houses/(?P<house_id>[0-9]+)/charges/?$",
        views.HouseMonthChargesView.as_view(),
        name="house-month-charges",
    ),
    re_path(
        r"^api/v1/houses/(?P<house_id>[0-9]+)/statement/?$",
        views.HouseStatementView.as_view(),
        name="house-statement",
    ),
]
