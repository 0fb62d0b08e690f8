"""Roles and /api/v1/users/ (operators only)."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.identity.factories import (
    AnalystFactory,
    OperatorFactory,
    PhoneUserFactory,
    UserFactory,
)
from core.permissions import is_analyst, is_operator


@pytest.mark.django_db
class TestRoles:
    @pytest.mark.parametrize(
        ("factory", "extra", "role"),
        [
            (UserFactory, {}, "user"),
            (AnalystFactory, {}, "analyst"),
            (OperatorFactory, {"is_superuser": False}, "admin"),
            (UserFactory, {"is_superuser": True}, "admin"),
        ],
    )
    def test_me_shows_the_role(self, factory, extra, role, client_for):
        user = factory(**extra)

        response = client_for(user).get("/api/v1/users/me/")

        assert response.data["role"] == role

    def test_roles_add_up_for_a_superuser(self):
        root = UserFactory(is_superuser=True)

        assert is_operator(root)
        assert is_analyst(root)


@pytest.mark.django_db
class TestUsersList:
    def test_operator_gets_a_paginated_list(self, client_for):
        operator = OperatorFactory()
        UserFactory.create_batch(3)

        response = client_for(operator).get("/api/v1/users/?page_size=2")

        assert response.status_code == 200
        assert response.data["count"] == 4
        assert len(response.data["results"]) == 2
        assert response.data["next"]

    def test_search_by_phone(self, client_for):
        operator = OperatorFactory()
        bob = PhoneUserFactory(phone="+79995554433")
        PhoneUserFactory()

        response = client_for(operator).get("/api/v1/users/", {"search": "5554433"})

        assert [u["id"] for u in response.data["results"]] == [bob.pk]

    def test_list_query_count_is_constant(self, django_assert_max_num_queries, client_for):
        operator = OperatorFactory()
        UserFactory.create_batch(25)
        client = client_for(operator)

        with django_assert_max_num_queries(4):  # token+user, count, page
            client.get("/api/v1/users/")

    @pytest.mark.parametrize("factory", [UserFactory, AnalystFactory])
    def test_user_without_the_role_gets_403(self, factory, client_for):
        response = client_for(factory()).get("/api/v1/users/")

        assert response.status_code == 403
        assert response.data["code"] == "permission_denied"

    def test_anonymous_gets_401_with_www_authenticate(self, api_client):
        response = api_client.get("/api/v1/users/")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_operator_makes_a_user_analyst(self, client_for):
        operator, bob = OperatorFactory(), UserFactory()

        response = client_for(operator).patch(
            reverse("user-detail", args=[bob.pk]), {"is_analyst": True, "role": "admin"}
        )

        assert response.status_code == 200
        assert response.data["role"] == "analyst"
        bob.refresh_from_db()
        assert (bob.is_analyst, bob.is_staff) == (True, False)

    def test_ordinary_user_cannot_read_or_change_another_user(self, client_for):
        alice, bob = UserFactory(), UserFactory()
        client = client_for(bob)

        read = client.get(f"/api/v1/users/{alice.pk}/")
        write = client.patch(f"/api/v1/users/{alice.pk}/", {"bio": "hacked", "is_analyst": True})

        assert (read.status_code, write.status_code) == (403, 403)
        alice.refresh_from_db()
        assert (alice.bio, alice.is_analyst) == ("", False)

    def test_put_and_delete_are_not_offered(self, client_for):
        operator, bob = OperatorFactory(), UserFactory()
        client = client_for(operator)

        delete = client.delete(f"/api/v1/users/{bob.pk}/")

        assert delete.status_code == 405
        assert User.objects.filter(pk=bob.pk).exists()

    def test_unknown_user_is_404(self, client_for):
        response = client_for(OperatorFactory()).get("/api/v1/users/999999/")

        assert response.status_code == 404


@pytest.mark.django_db
class TestAdminSite:
    def test_operator_sees_the_analyst_checkbox_on_the_user_page(self, client):
        operator = UserFactory(is_staff=True, is_superuser=True)
        bob = UserFactory()
        client.force_login(operator)

        response = client.get(f"/admin/accounts/user/{bob.pk}/change/")

        assert response.status_code == 200
        assert b'name="is_analyst"' in response.content
