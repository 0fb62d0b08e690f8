"""Username + password -> DRF token; createsuperuser; no default accounts."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.tests.identity.factories import UserFactory

STRONG = "correct-horse-battery-staple"


@pytest.mark.django_db
class TestRegistration:
    def test_creates_user_and_answers_token_key(self, api_client):
        response = api_client.post(
            "/auth/registration/",
            {"username": "my_name", "password1": STRONG, "password2": STRONG},
        )

        assert response.status_code == 201
        user = User.objects.get(username="my_name")
        assert response.data == {"key": user.auth_token.key}
        assert user.check_password(STRONG)
        assert user.role == "user"
        assert user.invite_code

    def test_works_without_trailing_slash_and_with_form_data(self, api_client):
        response = api_client.post(
            "/auth/registration",
            {"username": "formy", "password1": STRONG, "password2": STRONG},
            format="multipart",
        )

        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"username": "a", "password1": STRONG, "password2": STRONG + "x"}, "password2"),
            ({"username": "a", "password1": "secret", "password2": "secret"}, "password1"),
            (
                {"username": "a", "password1": "12345678901", "password2": "12345678901"},
                "password1",
            ),
            ({"username": "bad name!", "password1": STRONG, "password2": STRONG}, "username"),
            ({"username": "a", "password1": STRONG}, "password2"),
        ],
    )
    def test_bad_input_is_refused_and_no_user_is_made(self, api_client, body, field):
        response = api_client.post("/auth/registration/", body, format="json")

        assert response.status_code == 400
        assert field in response.data
        assert not User.objects.exists()

    def test_weak_password_answer_names_each_rule(self, api_client):
        response = api_client.post(
            "/auth/registration/", {"username": "a", "password1": "secret", "password2": "secret"}
        )

        assert response.data["code"] == "password_too_short"
        assert len(response.data["password1"]) == 2  # too short and too common

    def test_password_similar_to_username_is_refused(self, api_client):
        response = api_client.post(
            "/auth/registration/",
            {"username": "margaretthatcher", "password1": "margaretthatcher1"}
            | {"password2": "margaretthatcher1"},
        )

        assert response.status_code == 400
        assert not User.objects.exists()

    def test_taken_username_is_refused(self, api_client):
        UserFactory(username="Taken")

        response = api_client.post(
            "/auth/registration/", {"username": "taken", "password1": STRONG, "password2": STRONG}
        )

        assert response.status_code == 400
        assert response.data["code"] == "unique"
        assert User.objects.count() == 1


@pytest.mark.django_db
class TestPasswordLogin:
    def test_answers_the_users_token_key(self, api_client):
        user = UserFactory(username="my_name", password=STRONG)

        response = api_client.post("/auth/login/", {"username": "my_name", "password": STRONG})

        assert response.status_code == 200
        assert response.data == {"key": Token.objects.get(user=user).key}

    def test_signing_in_twice_answers_the_same_key(self, api_client):
        UserFactory(username="my_name", password=STRONG)
        body = {"username": "my_name", "password": STRONG}

        first = api_client.post("/auth/login/", body).data["key"]
        second = api_client.post("/auth/login", body).data["key"]

        assert first == second

    @pytest.mark.parametrize("password", ["wrong-password", "", STRONG.upper()])
    def test_wrong_password_is_refused_without_a_token(self, api_client, password):
        UserFactory(username="my_name", password=STRONG)

        response = api_client.post(
            "/auth/login/", {"username": "my_name", "password": password}, format="json"
        )

        assert response.status_code == 400
        assert not Token.objects.exists()

    def test_wrong_password_says_invalid_credentials(self, api_client):
        UserFactory(username="my_name", password=STRONG)

        response = api_client.post("/auth/login/", {"username": "my_name", "password": "nope"})

        assert response.data["code"] == "invalid_credentials"

    def test_disabled_user_cannot_sign_in(self, api_client):
        UserFactory(username="my_name", password=STRONG, is_active=False)

        response = api_client.post("/auth/login/", {"username": "my_name", "password": STRONG})

        assert response.status_code == 400
        assert not Token.objects.exists()

    def test_code_sign_in_users_have_no_password_to_guess(self, api_client):
        user = User.objects.create_user("phoneonly", password=None, phone="+79990000009")

        response = api_client.post(
            "/auth/login/", {"username": "phoneonly", "password": ""}, format="json"
        )

        assert not user.has_usable_password()
        assert response.status_code == 400


@pytest.mark.django_db
class TestLogout:
    def test_deletes_the_token_so_it_no_longer_works(self, client_for):
        user = UserFactory()
        client = client_for(user)

        response = client.post("/auth/logout/")
        after = client.get("/api/v1/users/me/")

        assert response.status_code == 200
        assert not Token.objects.filter(user=user).exists()
        assert after.status_code == 401

    def test_anonymous_gets_401(self, api_client):
        response = api_client.post("/auth/logout/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
class TestOperatorAccounts:
    def test_createsuperuser_noinput_from_environment(self, monkeypatch, api_client):
        monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", STRONG)
        monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")

        call_command("createsuperuser", interactive=False, verbosity=0)

        root = User.objects.get(username="root")
        assert (root.is_superuser, root.is_staff, root.role) == (True, True, "admin")
        assert root.email == "root@example.com"
        assert root.phone is None
        assert root.invite_code
        response = api_client.post("/auth/login/", {"username": "root", "password": STRONG})
        assert response.status_code == 200

    def test_migrations_create_no_account(self):
        # The test database is freshly migrated: any user here would be a default account.
        assert not User.objects.exists()
