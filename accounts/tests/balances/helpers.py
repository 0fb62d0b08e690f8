from accounts.models import Account, Movement


def ledger_snapshot() -> tuple:
    """Balances and ledger size: what a refused request must leave unchanged."""
    return (
        tuple(Account.objects.order_by("id").values_list("id", "balance")),
        Movement.objects.count(),
    )
