from django.urls import re_path

from stores import views

# The seed's paths, each with and without the trailing slash.
STORE = r"^stores/(?P<store_id>[^/]+)"

urlpatterns = [
    re_path(r"^stores/?$", views.StoreListView.as_view(), name="store-list"),
    re_path(STORE + r"/?$", views.StoreStockView.as_view(), name="store-stock"),
    re_path(STORE + r"/group_op/?$", views.GroupOperationView.as_view(), name="store-group-op"),
    re_path(STORE + r"/clean/?$", views.CleanView.as_view(), name="store-clean"),
    re_path(STORE + r"/xlsx_report/?$", views.XlsxReportView.as_view(), name="store-xlsx"),
    re_path(STORE + r"/movements/?$", views.MovementListView.as_view(), name="store-movements"),
    re_path(
        STORE + r"/items/(?P<item_id>[^/]+)/movements/?$",
        views.ItemMovementListView.as_view(),
        name="store-item-movements",
    ),
]
