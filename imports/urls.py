from django.urls import include, path, re_path

from core.routers import OptionalSlashRouter
from imports import views

router = OptionalSlashRouter()
router.register("imports", views.ImportJobViewSet, basename="import")

urlpatterns = [
    re_path(
        r"^api/v1/imports/templates/(?P<kind>readings|houses|tariffs)\.xlsx$",
        views.TemplateView.as_view(),
        name="imports-template",
    ),
    re_path(
        r"^api/v1/exports/(?P<what>registry|readings|tariffs|charges)\.(?P<fmt>xlsx|csv)$",
        views.ExportView.as_view(),
        name="imports-export",
    ),
    path("api/v1/", include(router.urls)),
]
