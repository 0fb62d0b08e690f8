from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from housing import views
from housing.compat import views as compat

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("houses", views.HouseViewSet, basename="house")
router.register("flats", views.FlatViewSet, basename="flat")
router.register("meters", views.MeterViewSet, basename="meter")
router.register("readings", views.ReadingViewSet, basename="reading")
router.register("tariffs", views.TariffViewSet, basename="tariff")

# The compatible endpoints answer with and without the trailing slash.
urlpatterns = [
    re_path(r"^api/homes/?$", compat.HomeListView.as_view(), name="homes-list"),
    re_path(r"^api/homes/details/?$", compat.HomeDetailsView.as_view(), name="homes-details"),
    re_path(r"^api/homes/create/?$", compat.HomeCreateView.as_view(), name="homes-create"),
    re_path(
        r"^api/water-checkers/create/?$",
        compat.WaterCheckerCreateView.as_view(),
        name="water-checkers-create",
    ),
    re_path(
        r"^api/water-checkers/details/?$",
        compat.WaterCheckerDetailsView.as_view(),
        name="water-checkers-details",
    ),
    path("api/v1/", include(router.urls)),
]
