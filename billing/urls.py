from django.urls import include, path

from billing import views
from billing.compat import views as compat
from core.routers import OptionalSlashRouter, optional_slash

router = OptionalSlashRouter()
router.register("rent-runs", views.RentRunViewSet, basename="rent-run")
router.register("charges", views.ChargeViewSet, basename="charge")

urlpatterns = [
    *optional_slash("payment/calculate/", compat.CalculateView, "payment-calculate"),
    *optional_slash(
        r"^payment/progress/(?P<task_id>[^/]+)/", compat.ProgressView, "payment-progress"
    ),
    path("api/v1/", include(router.urls)),
    *optional_slash(
        r"^api/v1/houses/(?P<house_id>[0-9]+)/charges/",
        views.HouseMonthChargesView,
        "house-month-charges",
    ),
    *optional_slash(
        r"^api/v1/houses/(?P<house_id>[0-9]+)/statement/",
        views.HouseStatementView,
        "house-statement",
    ),
]
