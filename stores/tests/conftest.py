import pytest
from rest_framework.test import APIClient

from core.testing import token_client
from stores.tests.factories import OperatorFactory, StoreFactory, UserFactory

client_for = token_client  # an API client signed in with the user's DRF token


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
