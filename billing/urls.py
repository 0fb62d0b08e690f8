from django.urls import re_path

from billing.contract import views as contract

# Seed 000's paths answer with and without the trailing slash.
urlpatterns = [
    re_path(r"^payment/calculate/?$", contract.CalculateView.as_view(), name="payment-calculate"),
    re_path(
        r"^payment/progress/(?P<task_id>[^/]+)/?$",
        contract.ProgressView.as_view(),
        name="payment-progress",
    ),
]
