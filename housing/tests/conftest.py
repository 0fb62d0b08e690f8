import pytest
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def resident(db) -> User:
    return User.objects.create_user(username="resident")


@pytest.fixture
def resident_client(resident) -> APIClient:
    client = APIClient()
    client.force_authenticate(resident)
    return client
