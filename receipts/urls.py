from django.urls import path

from receipts import views


def both(route: str, view, name: str) -> list:
    """The route with its trailing slash (in the schema) and without it (an alias)."""
    return [
        path(route, view.as_view(), name=name),
        path(route.rstrip("/"), view.as_view(schema=None)),
    ]


urlpatterns = [
    *both("api/checks/", views.ChecksView, "receipts-checks"),
    *both("api/checks/bulk/", views.BulkChecksView, "receipts-checks-bulk"),
    *both("api/add_checks/", views.AddChecksView, "receipts-add-checks"),
    *both("api/places/", views.PlaceListView, "receipts-places"),
    *both("api/analytics/", views.AnalyticsListView, "receipts-analytics"),
    *both("api/analytics/<str:place_id>/", views.PlaceAnalyticsView, "receipts-place-analytics"),
    *both(
        "api/points-of-sale/<int:user_id>/places/",
        views.PointOfSalePlacesView,
        "receipts-pos-places",
    ),
    *both(
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
