from decimal import Decimal

import pytest

from accounts.balances import services
from accounts.tests.balances.factories import ExchangeRateFactory, ServiceFactory, UserFactory
from accounts.tests.balances.helpers import ledger_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_lists_ledger_with_a_constant_number_of_queries(
    operator_client, funded_account, django_assert_max_num_queries
):
    service = ServiceFactory(price=Decimal("1.00"))
    ExchangeRateFactory()
    for _ in range(5):
        account = funded_account("10.00")
        services.purchase(user=account.user, service_id=service.pk)
    for path in [
        "/admin/accounts/account/",
        "/admin/accounts/movement/",
        "/admin/accounts/service/",
        "/admin/accounts/exchangerate/",
    ]:
        with django_assert_max_num_queries(12):
            assert operator_client.get(path).status_code == 200, path


def test_admin_cannot_edit_balances_or_movements(operator_client, funded_account):
    account = funded_account("10.00")
    before = ledger_snapshot()
    response = operator_client.post(
        f"/admin/accounts/account/{account.pk}/change/", {"balance": "999.00"}
    )
    assert response.status_code == 403
    assert operator_client.get("/admin/accounts/movement/add/").status_code == 403
    assert ledger_snapshot() == before


def test_admin_action_verifies_the_ledger(operator_client, funded_account):
    account = funded_account("10.00")
    response = operator_client.post(
        "/admin/accounts/account/",
        {"action": "verify_ledger", "_selected_action": [account.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Every balance equals its ledger sum." in response.content.decode()


def test_account_page_shows_owner_currency_balance_and_latest_movements(
    operator_client, funded_account
):
    account = funded_account("10.00")
    services.purchase(user=account.user, service_id=ServiceFactory(price=Decimal("3.00")).pk)
    html = operator_client.get(f"/admin/accounts/account/{account.pk}/change/").content.decode()
    assert account.user.username in html
    assert "RUB" in html
    assert "7.00" in html
    assert 'id="latest-movements"' in html
    assert "&minus;3.00" in html
    assert "+10.00" in html
    assert 'name="_save"' not in html
    assert "deletelink" not in html
