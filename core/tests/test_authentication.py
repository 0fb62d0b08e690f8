"""The project's token and JWT authentication answer as DRF's and SimpleJWT's classes."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User

pytestmark = pytest.mark.django_db

PROFILE = "/api/profile"


def _client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_a_drf_token_signs_its_user_in():
    user = User.objects.create_user(username="eve", phone="+79990000101")
    token = Token.objects.create(user=user)

    response = _client(f"Token {token.key}").get(PROFILE)

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == user.phone


def test_an_unknown_or_inactive_users_token_is_refused_with_401():
    user = User.objects.create_user(username="fay", is_active=False)
    token = Token.objects.create(user=user)

    inactive = _client(f"Token {token.key}").get(PROFILE)
    unknown = _client("Token " + "f" * 40).get(PROFILE)

    assert inactive.status_code == 401
    assert inactive.json()["detail"] == "User inactive or deleted."
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "Invalid token."
    assert inactive["WWW-Authenticate"] == "Token"


def test_a_jwt_signs_its_user_in():
    user = User.objects.create_user(username="gus", phone="+79990000102")

    response = _client(f"Bearer {AccessToken.for_user(user)}").get(PROFILE)

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == user.phone


def test_a_jwt_of_an_inactive_or_deleted_user_is_refused_with_401():
    inactive = User.objects.create_user(username="hal", is_active=False)
    deleted = User.objects.create_user(username="ivy")
    deleted_token = AccessToken.for_user(deleted)
    deleted.delete()

    inactive_answer = _client(f"Bearer {AccessToken.for_user(inactive)}").get(PROFILE)
    deleted_answer = _client(f"Bearer {deleted_token}").get(PROFILE)

    assert inactive_answer.status_code == 401
    assert inactive_answer.json()["code"] == "user_inactive"
    assert deleted_answer.status_code == 401
    assert deleted_answer.json()["code"] == "user_not_found"
