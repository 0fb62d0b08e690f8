"""Identity routes. Every path works with and without its trailing slash."""

from django.urls import include, path

from accounts.identity import views
from core.routers import OptionalSlashRouter, optional_slash

router = OptionalSlashRouter()
router.register("api/v1/users", views.UserViewSet, basename="user")

urlpatterns = [
    # phone + SMS code, invite codes
    *optional_slash("api/login/", views.PhoneLoginView, "phone-login"),
    *optional_slash("api/verify/", views.PhoneVerifyView, "phone-verify"),
    *optional_slash("api/profile/", views.ProfileView, "profile"),
    # e-mail + code -> JWT
    *optional_slash("api/v1/auth/email/", views.EmailCodeView, "email-code"),
    *optional_slash("api/v1/auth/token/", views.EmailTokenView, "email-token"),
    *optional_slash("api/v1/auth/token/refresh/", views.JwtRefreshView, "jwt-refresh"),
    *optional_slash("api/v1/auth/logout/", views.JwtLogoutView, "jwt-logout"),
    *optional_slash("api/v1/users/me/", views.MeView, "me"),
    path("", include(router.urls)),
    # username + password -> DRF token
    *optional_slash("auth/registration/", views.RegistrationView, "registration"),
    *optional_slash("auth/login/", views.PasswordLoginView, "password-login"),
    *optional_slash("auth/logout/", views.PasswordLogoutView, "password-logout"),
]
