from django.urls import include, path

from core.routers import OptionalSlashRouter, optional_slash
from housing import views
from housing.compat import views as compat

router = OptionalSlashRouter()
router.register("houses", views.HouseViewSet, basename="house")
router.register("flats", views.FlatViewSet, basename="flat")
router.register("meters", views.MeterViewSet, basename="meter")
router.register("readings", views.ReadingViewSet, basename="reading")
router.register("tariffs", views.TariffViewSet, basename="tariff")

urlpatterns = [
    *optional_slash("api/homes/", compat.HomeListView, "homes-list"),
    *optional_slash("api/homes/details/", compat.HomeDetailsView, "homes-details"),
    *optional_slash("api/homes/create/", compat.HomeCreateView, "homes-create"),
    *optional_slash(
        "api/water-checkers/create/", compat.WaterCheckerCreateView, "water-checkers-create"
    ),
    *optional_slash(
        "api/water-checkers/details/", compat.WaterCheckerDetailsView, "water-checkers-details"
    ),
    path("api/v1/", include(router.urls)),
]
