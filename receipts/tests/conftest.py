import json

import pytest

from core.testing import token_client
from receipts.tests.factories import AnalystFactory, PosUserFactory, UserFactory


@pytest.fixture(autouse=True)
def journal_path(settings, tmp_path):
    path = tmp_path / "journal" / "receipts.jsonl"
    settings.RECEIPTS_JOURNAL_PATH = str(path)
    return path


@pytest.fixture
def read_journal(journal_path):
    def read() -> list[dict]:
        if not journal_path.exists():
            return []
        return [json.loads(line) for line in journal_path.read_text().splitlines()]

    return read


client_for = token_client  # an API client signed in with the user's DRF token


@pytest.fixture
def pos(db):
    return PosUserFactory()


@pytest.fixture
def pos_client(pos):
    return client_for(pos)


@pytest.fixture
def analyst_client(db):
    return client_for(AnalystFactory())


@pytest.fixture
def user_client(db):
    return client_for(UserFactory())
