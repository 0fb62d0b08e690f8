from django.urls import include, path

urlpatterns = [
    path("", include("accounts.identity.urls")),
    path("", include("accounts.balances.urls")),
]
