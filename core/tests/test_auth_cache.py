"""The Token/JWT user lookup is cached, and every change of the user or token drops it.

Real PostgreSQL and Redis: the cache entries are looked at where every process would see them.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.identity import services as identity
from accounts.tests.factories import TokenUserFactory, UserFactory
from core.auth import _MISSING, _get, _token_key, _user_key

pytestmark = pytest.mark.django_db


def cached(key: str):
    value = _get(key)
    return None if value is _MISSING else value


ME = "/api/v1/users/me/"


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def user_queries(client, path=ME) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum('"accounts_user"' in q["sql"] for q in queries.captured_queries)


def test_a_jwt_request_reuses_the_user_an_earlier_one_looked_up():
    user = UserFactory()
    client = jwt_client(user)
    assert user_queries(client) == 1
    assert cached(_user_key(user.pk)).username == user.username
    assert user_queries(client) == 0


def test_a_token_request_reuses_the_token_an_earlier_one_looked_up():
    user = TokenUserFactory()
    client = token_client(user.auth_token.key)
    assert user_queries(client) == 1
    assert user_queries(client) == 0
    # The cache holds a digest of the token, never the credential itself.
    assert cached(_token_key(user.auth_token.key)) is not None
    assert cached(f"auth:token:{user.auth_token.key}") is None


@pytest.mark.parametrize("kind", ["jwt", "token"])
def test_a_deactivated_user_is_refused_at_once(kind):
    user = TokenUserFactory()
    client = jwt_client(user) if kind == "jwt" else token_client(user.auth_token.key)
    assert client.get(ME).status_code == 200  # now cached
    user.is_active = False
    user.save()
    assert client.get(ME).status_code == 401


def test_a_deleted_token_is_refused_at_once():
    user = TokenUserFactory()
    key = user.auth_token.key
    client = token_client(key)
    assert client.get(ME).status_code == 200
    identity.sign_out_token(user=user)
    assert not Token.objects.filter(key=key).exists()
    assert client.get(ME).status_code == 401


def test_a_deleted_user_is_refused_at_once():
    user = TokenUserFactory()
    jwt, token = jwt_client(user), token_client(user.auth_token.key)
    assert jwt.get(ME).status_code == token.get(ME).status_code == 200
    user.delete()
    assert jwt.get(ME).status_code == 401
    assert token.get(ME).status_code == 401


@pytest.mark.parametrize("kind", ["jwt", "token"])
def test_a_password_change_drops_the_cached_user(kind):
    user = TokenUserFactory()
    client = jwt_client(user) if kind == "jwt" else token_client(user.auth_token.key)
    assert client.get(ME).status_code == 200
    old_hash = cached(_user_key(user.pk)) and cached(_user_key(user.pk)).password
    user.set_password("another-long-password-456")
    user.save()
    assert cached(_user_key(user.pk)) is None
    assert cached(_token_key(user.auth_token.key)) is None
    assert user_queries(client) == 1  # looked up afresh
    if kind == "jwt":
        assert cached(_user_key(user.pk)).password != old_hash


@pytest.mark.parametrize("kind", ["jwt", "token"])
def test_a_profile_change_shows_on_the_next_request(kind):
    user = TokenUserFactory(first_name="Old")
    client = jwt_client(user) if kind == "jwt" else token_client(user.auth_token.key)
    assert client.get(ME).json()["first_name"] == "Old"
    assert client.patch(ME, {"first_name": "New"}, format="json").status_code == 200
    assert client.get(ME).json()["first_name"] == "New"


def test_staff_rights_taken_away_apply_at_once():
    operator = TokenUserFactory(is_staff=True)
    client = token_client(operator.auth_token.key)
    assert client.get("/api/v1/users/").status_code == 200
    operator.is_staff = False
    operator.save()
    assert client.get("/api/v1/users/").status_code == 403


def test_an_invite_code_set_by_update_drops_the_cached_user():
    inviter = UserFactory(invite_code="INV042")
    user = UserFactory()
    client = jwt_client(user)
    assert client.get(ME).status_code == 200
    assert cached(_user_key(user.pk)) is not None
    identity.activate_invite_code(user=user, code="INV042")
    assert cached(_user_key(user.pk)) is None
    assert inviter.pk


def test_with_the_cache_off_every_request_looks_the_user_up(settings):
    settings.AUTH_USER_CACHE_SECONDS = 0
    user = UserFactory()
    client = jwt_client(user)
    assert user_queries(client) == 1
    assert user_queries(client) == 1


def test_a_jwt_verified_earlier_is_refused_once_it_expires():
    user = UserFactory()
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=3))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(ME).status_code == 200  # verified, and remembered by this process
    time.sleep(3.2)
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_forged_jwt_is_refused():
    user = UserFactory()
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{signature[::-1]}")
    assert client.get(ME).status_code == 401
