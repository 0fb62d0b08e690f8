"""E-mail + confirmation code -> JWT, refresh, logout, /api/v1/users/me/."""

import re

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import SignInCode, User
from accounts.tests.identity.factories import UserFactory

EMAIL = "Jane.Doe@Example.com"


def _jwt_client(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def signed_in(api_client, send_email_code):
    """(access, refresh) of a fresh e-mail sign-in."""
    code = send_email_code(EMAIL)
    response = api_client.post(
        "/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": code}, format="json"
    )
    assert response.status_code == 200, response.data
    return response.data["token"], response.data["refresh"]


@pytest.mark.django_db
class TestEmailCode:
    def test_mails_a_six_digit_code(self, send_email_code, mailoutbox):
        code = send_email_code(EMAIL)

        assert re.fullmatch(r"[1-9]\d{5}", code)
        assert mailoutbox[-1].to == ["jane.doe@example.com"]
        assert mailoutbox[-1].subject == "Your confirmation code"

    def test_bad_email_is_refused_and_nothing_is_stored(self, api_client, mailoutbox):
        response = api_client.post("/api/v1/auth/email/", {"email": "not-an-email"})

        assert response.status_code == 400
        assert response.data["code"] == "invalid"
        assert not SignInCode.objects.exists()

    def test_resend_within_a_minute_is_throttled(self, api_client, send_email_code):
        send_email_code(EMAIL)

        response = api_client.post("/api/v1/auth/email", {"email": EMAIL.lower()})

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
class TestEmailToken:
    def test_code_gives_access_and_refresh_jwts_and_creates_the_user(self, signed_in):
        access, refresh = signed_in

        user = User.objects.get()
        assert user.email == "jane.doe@example.com"
        assert user.username == "jane.doe"
        assert not user.has_usable_password()
        assert access.count(".") == 2
        assert refresh.count(".") == 2

    def test_access_jwt_reads_users_me(self, signed_in):
        response = _jwt_client(signed_in[0]).get("/api/v1/users/me/")

        assert response.status_code == 200
        assert response.data == {
            "first_name": "",
            "last_name": "",
            "username": "jane.doe",
            "bio": "",
            "email": "jane.doe@example.com",
            "role": "user",
        }

    def test_existing_user_with_that_email_signs_in_to_their_account(
        self, api_client, send_email_code
    ):
        jane = UserFactory(email="jane.doe@example.com")
        code = send_email_code(EMAIL)

        api_client.post("/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": code})

        assert User.objects.get() == jane

    def test_username_taken_gets_a_suffix(self, send_email_code, api_client):
        UserFactory(username="jane.doe", email="other@example.com")
        code = send_email_code(EMAIL)

        api_client.post("/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": code})

        assert User.objects.get(email="jane.doe@example.com").username == "jane.doe-2"

    def test_wrong_code_is_counted_and_burns_after_five(self, api_client, send_email_code):
        code = send_email_code(EMAIL)
        wrong = "111111" if code != "111111" else "222222"
        answers = [
            api_client.post("/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": wrong})
            for _ in range(5)
        ]

        right = api_client.post("/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": code})

        assert {a.status_code for a in answers} == {400}
        assert right.data["code"] == "code_burned"
        assert not User.objects.exists()

    def test_four_digit_code_is_malformed(self, api_client, send_email_code):
        send_email_code(EMAIL)

        response = api_client.post(
            "/api/v1/auth/token/", {"email": EMAIL, "confirmation_code": "1234"}
        )

        assert response.status_code == 400
        assert "confirmation_code" in response.data
        assert SignInCode.objects.get().attempts == 0


@pytest.mark.django_db
class TestRefreshAndLogout:
    def test_refresh_gives_new_pair_and_blacklists_the_old_refresh(self, api_client, signed_in):
        _, refresh = signed_in

        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh})
        again = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh})

        assert response.status_code == 200
        assert set(response.data) == {"token", "refresh"}
        assert _jwt_client(response.data["token"]).get("/api/v1/users/me/").status_code == 200
        assert again.status_code == 401
        assert again["WWW-Authenticate"].startswith("Bearer")

    def test_refresh_after_logout_is_refused(self, api_client, signed_in):
        _, refresh = signed_in

        logout = api_client.post("/api/v1/auth/logout/", {"refresh": refresh})
        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh})

        assert logout.status_code == 200
        assert response.status_code == 401
        assert response.data == {"detail": "Token is blacklisted", "code": "token_not_valid"}
        assert BlacklistedToken.objects.count() == 1

    def test_logout_twice_is_refused_without_a_second_blacklist_row(self, api_client, signed_in):
        _, refresh = signed_in
        api_client.post("/api/v1/auth/logout/", {"refresh": refresh})

        response = api_client.post("/api/v1/auth/logout/", {"refresh": refresh})

        assert response.status_code == 401
        assert BlacklistedToken.objects.count() == 1

    def test_access_token_is_not_a_refresh_token(self, api_client, signed_in):
        access, _ = signed_in

        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": access})

        assert response.status_code == 401

    def test_garbage_refresh_is_refused(self, api_client):
        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": "x.y.z"})

        assert response.status_code == 401

    def test_missing_refresh_is_bad_input(self, api_client):
        response = api_client.post("/api/v1/auth/logout/", {}, format="json")

        assert response.status_code == 400


@pytest.mark.django_db
class TestMe:
    def test_patch_changes_the_documented_fields(self, signed_in):
        body = {"first_name": "Jane", "last_name": "Doe", "username": "jdoe", "bio": "Hi"}

        response = _jwt_client(signed_in[0]).patch("/api/v1/users/me/", body)

        assert response.status_code == 200
        assert {k: response.data[k] for k in body} == body
        user = User.objects.get()
        assert (user.first_name, user.last_name, user.username, user.bio) == tuple(body.values())

    def test_role_and_email_are_read_only(self, signed_in):
        client = _jwt_client(signed_in[0])

        response = client.patch("/api/v1/users/me/", {"role": "admin", "email": "boss@example.com"})

        assert response.status_code == 200
        user = User.objects.get()
        assert (user.role, user.is_staff, user.email) == ("user", False, "jane.doe@example.com")

    def test_taken_username_is_refused_and_nothing_changes(self, signed_in):
        UserFactory(username="taken")

        response = _jwt_client(signed_in[0]).patch(
            "/api/v1/users/me/", {"username": "taken", "bio": "x"}
        )

        assert response.status_code == 400
        assert "username" in response.data
        assert User.objects.get(email="jane.doe@example.com").bio == ""

    def test_anonymous_gets_401(self, api_client):
        response = api_client.get("/api/v1/users/me/")

        assert response.status_code == 401
        assert "WWW-Authenticate" in response


@pytest.mark.django_db
class TestRefreshRefusedForGoneUsers:
    def test_disabled_user_cannot_refresh(self, api_client, signed_in):
        User.objects.update(is_active=False)

        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": signed_in[1]})

        assert response.status_code == 401
        assert not BlacklistedToken.objects.exists()

    def test_deleted_user_cannot_refresh(self, api_client, signed_in):
        User.objects.all().delete()

        response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": signed_in[1]})

        assert response.status_code == 401
