import pytest
from rest_framework.test import APIClient

from stores.tests.factories import StoreFactory, UserFactory


@pytest.fixture
def reader_client(db, client_for) -> APIClient:
    return client_for(UserFactory())


@pytest.fixture
def store(db):
    return StoreFactory(store_id="abc111")
