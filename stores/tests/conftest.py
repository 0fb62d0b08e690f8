import pytest
from rest_framework.test import APIClient

from stores.tests.factories import OperatorFactory, StoreFactory, UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return client


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def operator_client(operator) -> APIClient:
    return client_for(operator)


@pytest.fixture
def reader_client(db) -> APIClient:
    return client_for(UserFactory())


@pytest.fixture
def store(db):
    return StoreFactory(store_id="abc111")
