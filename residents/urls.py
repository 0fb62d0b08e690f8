"""Residents routes; every path works with and without its trailing slash."""

from django.urls import include, path

from core.routers import OptionalSlashRouter, optional_slash
from residents import views

router = OptionalSlashRouter()
router.register("residencies", views.ResidencyViewSet, basename="residency")
router.register("flat-codes", views.FlatCodeViewSet, basename="flat-code")

ID = r"(?P<{}>[0-9]{{1,18}})"


def _path(route: str, view, name: str) -> list:
    return optional_slash(rf"^api/v1/{route}/", view, name)


urlpatterns = [
    *_path("me/flats", views.MyFlatListView, "my-flats"),
    *_path("me/flats/redeem", views.RedeemFlatCodeView, "my-flats-redeem"),
    *_path(f"me/flats/{ID.format('flat_id')}", views.MyFlatDetailView, "my-flat"),
    *_path(f"me/flats/{ID.format('flat_id')}/statement", views.MyStatementView, "my-statement"),
    *_path("me/readings", views.MyReadingListView, "my-readings"),
    *_path(f"me/readings/{ID.format('reading_id')}", views.MyReadingDetailView, "my-reading"),
    *_path("me/charges", views.MyChargeListView, "my-charges"),
    *_path(f"me/charges/{ID.format('charge_id')}", views.MyChargeDetailView, "my-charge"),
    *_path(f"me/charges/{ID.format('charge_id')}/pay", views.PayChargeView, "my-charge-pay"),
    *_path(
        f"houses/{ID.format('house_id')}/collection-account",
        views.CollectionAccountView,
        "house-collection-account",
    ),
    *_path(f"houses/{ID.format('house_id')}/readings", views.HouseReadingsView, "house-readings"),
    *_path(f"houses/{ID.format('house_id')}/payments", views.HousePaymentsView, "house-payments"),
    *_path(
        f"houses/{ID.format('house_id')}/debtors.xlsx",
        views.HouseDebtorsXlsxView,
        "house-debtors-xlsx",
    ),
    path("api/v1/", include(router.urls)),
]
