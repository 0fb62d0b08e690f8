"""The admin's login page behind the same sign-in throttles as POST /auth/login/."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.identity.throttles import ThrottleGroup, ThrottleUnavailable, check_signin_throttles

ADMIN_LOGIN = ThrottleGroup(throttle_group="admin_login", throttle_account_field="username")


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Django's admin login, refused with 429 once the client IP or the username is over its
    sign-in rate: the password is then not even checked, so a guess cannot succeed."""
    if request.method == "POST":
        try:
            wait = check_signin_throttles(request, ADMIN_LOGIN)
        except ThrottleUnavailable as exc:
            return JsonResponse(exc.body(), status=exc.status)
        if wait is not None:
            response = JsonResponse(
                {
                    "detail": f"Too many sign-in attempts; try again in {wait} seconds.",
                    "code": "throttled",
                },
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, extra_context)
