import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 costs ~100 ms a user; the tests check behaviour, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db):
    """`client_for(user)`: an API client signed in as `user` with the user's DRF token (made if
    missing), so that requests go through the real authentication."""
    from core.testing import token_client

    return token_client


@pytest.fixture
def operator(db):
    """Staff (the operator role), not a superuser: superuser-only rules stay visible."""
    from accounts.tests.factories import OperatorFactory

    return OperatorFactory(username="op", is_superuser=False)


@pytest.fixture
def operator_client(operator, client_for):
    return client_for(operator)


@pytest.fixture(autouse=True, scope="session")
def _no_cached_logins_from_earlier_runs():
    # A new test database numbers users from 1 again: an earlier run's cached lookups of
    # "user 1" (core/auth.py) must not answer for this run's user 1.
    from django.conf import settings

    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match="*:auth:*", count=1000):
            client.delete(key)
