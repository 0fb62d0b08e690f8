"""Real threads, each with its own database connection, racing for the same money."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.balances import services
from accounts.balances.errors import NotEnoughMoney
from accounts.balances.selectors import ledger_discrepancies
from accounts.models import Account, Movement

# row locks across connections, lock_timeout
pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def run_in_threads(count: int, work):
    """Start `count` threads at once (barrier) and return what each returned or raised."""
    barrier = threading.Barrier(count)

    def worker(index: int):
        try:
            barrier.wait()
            return work(index)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def test_twenty_parallel_debits_of_ten_from_hundred_leave_exactly_zero(funded_account):
    account = funded_account("100.00")

    def debit(index: int) -> int:
        client = APIClient()
        client.force_authenticate(account.user)
        response = client.post(
            "/api/v1/withdrawals/", {"account": account.pk, "amount": "10.00"}, format="json"
        )
        return response.status_code

    statuses = run_in_threads(20, debit)
    assert sorted(statuses) == [201] * 10 + [402] * 10
    account.refresh_from_db()
    assert account.balance == Decimal("0.00")
    assert Movement.objects.filter(kind="withdrawal").count() == 10
    assert ledger_discrepancies() == []


def test_two_hundred_random_parallel_transfers_keep_the_sum_and_never_deadlock(funded_account):
    accounts = [funded_account("50.00") for _ in range(5)]
    total_before = sum(a.balance for a in accounts)
    rng = random.Random(2026)
    # Crossing pairs on purpose: every ordered pair appears, A->B next to B->A.
    pairs = [(a, b) for a in accounts for b in accounts if a is not b]
    plan = [(*rng.choice(pairs), Decimal(rng.randint(1, 3000)) / 100) for _ in range(200)]

    def move(index: int):
        source, target, amount = plan[index]
        try:
            services.transfer(
                user=source.user,
                from_account_id=source.pk,
                to_account_id=target.pk,
                amount=amount,
            )
            return "ok"
        except NotEnoughMoney:
            return "short"

    outcomes = run_in_threads(16, lambda i: [move(j) for j in range(i, 200, 16)])
    flat = [o for chunk in outcomes for o in (chunk if isinstance(chunk, list) else [chunk])]
    assert all(o in ("ok", "short") for o in flat), [o for o in flat if o not in ("ok", "short")]
    assert len(flat) == 200
    balances = list(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list(
        "balance", flat=True))  # fmt: skip
    assert sum(balances) == total_before
    assert min(balances) >= 0
    assert Movement.objects.filter(kind="transfer").count() == flat.count("ok")
    assert flat.count("ok") > 100
    assert ledger_discrepancies() == []


def test_lock_held_too_long_answers_503_with_retry_after(funded_account, settings):
    settings.BALANCE_LOCK_TIMEOUT_MS = 200
    account = funded_account("100.00")
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        from django.db import transaction

        try:
            with transaction.atomic():
                Account.objects.select_for_update().get(pk=account.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        client = APIClient()
        client.force_authenticate(account.user)
        response = client.post(
            "/api/v1/withdrawals/", {"account": account.pk, "amount": "1.00"}, format="json"
        )
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "account_busy"
    account.refresh_from_db()
    assert account.balance == Decimal("100.00")
    assert Movement.objects.count() == 1
