from decimal import Decimal

import pytest

from accounts.balances import services
from accounts.models import Account
from accounts.tests.balances.factories import AccountFactory


@pytest.fixture
def funded_account():
    """Make an account whose balance came from a real deposit (the ledger agrees)."""

    def make(amount: str = "100.00", **kwargs) -> Account:
        account = AccountFactory.create(**kwargs)
        if Decimal(amount):
            services.deposit(user=account.user, account_id=account.pk, amount=Decimal(amount))
        account.refresh_from_db()
        return account

    return make
