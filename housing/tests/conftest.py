import pytest
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_user(username="op", is_staff=True)


@pytest.fixture
def resident(db) -> User:
    return User.objects.create_user(username="resident")


@pytest.fixture
def operator_client(operator) -> APIClient:
    client = APIClient()
    client.force_authenticate(operator)
    return client


@pytest.fixture
def resident_client(resident) -> APIClient:
    client = APIClient()
    client.force_authenticate(resident)
    return client
