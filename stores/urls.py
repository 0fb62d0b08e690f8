from core.routers import optional_slash
from stores import views

# The stores API is specified without the trailing slash: that form is the one in the schema.


urlpatterns = [
    *optional_slash("stores", views.StoreListView, "store-list"),
    *optional_slash("stores/<str:store_id>", views.StoreStockView, "store-stock"),
    *optional_slash("stores/<str:store_id>/group_op", views.GroupOperationView, "store-group-op"),
    *optional_slash("stores/<str:store_id>/clean", views.CleanView, "store-clean"),
    *optional_slash("stores/<str:store_id>/xlsx_report", views.XlsxReportView, "store-xlsx"),
    *optional_slash("stores/<str:store_id>/movements", views.MovementListView, "store-movements"),
    *optional_slash(
        "stores/<str:store_id>/items/<str:item_id>/movements",
        views.ItemMovementListView,
        "store-item-movements",
    ),
]
