from django.urls import re_path

from housing.contract import views as contract

# Seed 000's paths answer with and without the trailing slash.
urlpatterns = [
    re_path(r"^api/homes/?$", contract.HomeListView.as_view(), name="homes-list"),
    re_path(r"^api/homes/details/?$", contract.HomeDetailsView.as_view(), name="homes-details"),
    re_path(r"^api/homes/create/?$", contract.HomeCreateView.as_view(), name="homes-create"),
    re_path(
        r"^api/water-checkers/create/?$",
        contract.WaterCheckerCreateView.as_view(),
        name="water-checkers-create",
    ),
    re_path(
        r"^api/water-checkers/details/?$",
        contract.WaterCheckerDetailsView.as_view(),
        name="water-checkers-details",
    ),
]
