from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.balances import views

router = SimpleRouter()
router.register("api/v1/services", views.ServiceViewSet, basename="balance-service")

urlpatterns = [
    path("api/v1/accounts/", views.AccountListView.as_view(), name="balance-accounts"),
    path("api/v1/accounts/<int:pk>/", views.AccountDetailView.as_view(), name="balance-account"),
    path("api/v1/actions/", views.DepositListCreateView.as_view(), name="balance-deposits"),
    path(
        "api/v1/withdrawals/",
        views.WithdrawalListCreateView.as_view(),
        name="balance-withdrawals",
    ),
    path("api/v1/transactions/", views.PurchaseListView.as_view(), name="balance-purchases"),
    path("api/v1/transfers/", views.TransferListCreateView.as_view(), name="balance-transfers"),
    path(
        "api/v1/transfers/to_my_account/",
        views.IncomingTransferListView.as_view(),
        name="balance-transfers-in",
    ),
    path("api/v1/history/", views.HistoryView.as_view(), name="balance-history"),
    *router.urls,
]
