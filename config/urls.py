from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.identity.admin_login import admin_login
from core import views as core_views

docs = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("swagger/", SpectacularSwaggerView.as_view(url_name="schema")),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema")),
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("admin/login/", admin_login, name="admin-login"),  # throttled; before the admin's own
    path("admin/", admin.site.urls),
    *docs,
    path("", include("accounts.urls")),
    path("", include("housing.urls")),
    path("", include("billing.urls")),
    path("", include("receipts.urls")),
    path("", include("stores.urls")),
    path("", include("imports.urls")),
    path("", include("residents.urls")),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
