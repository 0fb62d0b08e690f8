"""Identity routes. Every path works with and without its trailing slash."""

from django.urls import include, re_path
from rest_framework.routers import SimpleRouter

from accounts.identity import views

router = SimpleRouter(trailing_slash="/?")
router.register("api/v1/users", views.UserViewSet, basename="user")


def _path(route: str, view, name: str):
    return re_path(rf"^{route}/?$", view.as_view(), name=name)


urlpatterns = [
    # phone + SMS code, invite codes
    _path("api/login", views.PhoneLoginView, "phone-login"),
    _path("api/verify", views.PhoneVerifyView, "phone-verify"),
    _path("api/profile", views.ProfileView, "profile"),
    # e-mail + code -> JWT
    _path("api/v1/auth/email", views.EmailCodeView, "email-code"),
    _path("api/v1/auth/token", views.EmailTokenView, "email-token"),
    _path("api/v1/auth/token/refresh", views.JwtRefreshView, "jwt-refresh"),
    _path("api/v1/auth/logout", views.JwtLogoutView, "jwt-logout"),
    _path("api/v1/users/me", views.MeView, "me"),
    re_path("", include(router.urls)),
    # username + password -> DRF token
    _path("auth/registration", views.RegistrationView, "registration"),
    _path("auth/login", views.PasswordLoginView, "password-login"),
    _path("auth/logout", views.PasswordLogoutView, "password-logout"),
]
