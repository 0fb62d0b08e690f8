from django.urls import path

from stores import views


def both(route: str, view, name: str) -> list:
    """The seed's path (in the OpenAPI schema) and its trailing-slash twin (same view)."""
    return [
        path(route, view.as_view(), name=name),
        path(route + "/", view.as_view(schema=None), name=f"{name}-slash"),
    ]


urlpatterns = [
    *both("stores", views.StoreListView, "store-list"),
    *both("stores/<str:store_id>", views.StoreStockView, "store-stock"),
    *both("stores/<str:store_id>/group_op", views.GroupOperationView, "store-group-op"),
    *both("stores/<str:store_id>/clean", views.CleanView, "store-clean"),
    *both("stores/<str:store_id>/xlsx_report", views.XlsxReportView, "store-xlsx"),
    *both("stores/<str:store_id>/movements", views.MovementListView, "store-movements"),
    *both(
        "stores/<str:store_id>/items/<str:item_id>/movements",
        views.ItemMovementListView,
        "store-item-movements",
    ),
]
