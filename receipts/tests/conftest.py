import json

import pytest

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


@pytest.fixture
def pos(db):
    return PosUserFactory()


@pytest.fixture
def pos_client(pos, client_for):
    return client_for(pos)


@pytest.fixture
def analyst_client(db, client_for):
    return client_for(AnalystFactory())


@pytest.fixture
def user_client(db, client_for):
    return client_for(UserFactory())
