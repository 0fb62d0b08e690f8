import pytest
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_user(username="op", is_staff=True)


@pytest.fixture
def operator_client(operator) -> APIClient:
    client = APIClient()
    client.force_authenticate(operator)
    return client
