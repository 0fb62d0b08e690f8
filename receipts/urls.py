from django.urls import path

from core.routers import optional_slash
from receipts import views

urlpatterns = [
    *optional_slash("api/checks/", views.ChecksView, "receipts-checks"),
    *optional_slash("api/checks/bulk/", views.BulkChecksView, "receipts-checks-bulk"),
    *optional_slash("api/add_checks/", views.AddChecksView, "receipts-add-checks"),
    *optional_slash("api/places/", views.PlaceListView, "receipts-places"),
    *optional_slash("api/analytics/", views.AnalyticsListView, "receipts-analytics"),
    *optional_slash(
        "api/analytics/<str:place_id>/", views.PlaceAnalyticsView, "receipts-place-analytics"
    ),
    *optional_slash(
        "api/points-of-sale/<int:user_id>/places/",
        views.PointOfSalePlacesView,
        "receipts-pos-places",
    ),
    *optional_slash(
        "api/points-of-sale/<int:user_id>/places/<str:place_id>/",
        views.PointOfSalePlaceView,
        "receipts-pos-place",
    ),
    path(
        "api/analytics/<str:place_id>/chart.svg",
        views.PlaceChartView.as_view(),
        name="receipts-place-chart",
    ),
]
