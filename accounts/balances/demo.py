"""Demo money: accounts for alice and bob, a deposit, a small catalogue, offline rates."""

import datetime as dt
import json
from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.utils import timezone

from accounts.balances import services
from accounts.demo import demo_user
from accounts.models import ExchangeRate, Movement, Service

DEMO_SERVICES = [
    ("Premium listing", "Your ad on top of the search for 7 days.", Decimal("299.00")),
    ("Highlight", "Your ad in colour for 3 days.", Decimal("99.90")),
    ("Extra photos", "Up to 40 photos in one ad.", Decimal("49.00")),
]
# Roubles per unit, close to real ones: lets ?currency= work without the provider.
DEMO_RATES = {"USD": "92.5058", "EUR": "100.3123", "CNY": "12.7390", "GBP": "116.4455"}


def seed(*, stdout: OutputWrapper) -> list[str]:
    alice, bob = demo_user("alice"), demo_user("bob")
    alice_account, _ = services.open_account(user=alice)
    bob_account, _ = services.open_account(user=bob)
    if not Movement.objects.filter(credit_account=alice_account).exists():
        services.deposit(
            user=alice, account_id=alice_account.pk, amount=Decimal("1000.00"), comment="demo"
        )
    for name, description, price in DEMO_SERVICES:
        Service.objects.get_or_create(
            name=name, defaults={"description": description, "price": price}
        )
    today = timezone.localdate()
    for currency, rate in DEMO_RATES.items():
        if not ExchangeRate.objects.filter(currency=currency).exists():
            # Dated a week back so that a real refresh (dated today) wins over them.
            ExchangeRate.objects.create(
                currency=currency, date=today - dt.timedelta(days=7), rate=rate, source="demo"
            )
    first_service = Service.objects.filter(is_active=True).earliest("id")  # seeded above
    auth = "-H 'Authorization: Token <alice token>'"
    transfer = json.dumps(
        {"from_account": alice_account.pk, "to_account": bob_account.pk, "amount": 150}
    )
    return [
        f"balances: alice has account {alice_account.pk} (1000.00 RUB deposited), "
        f"bob has account {bob_account.pk}; rates for {', '.join(DEMO_RATES)} seeded",
        f"  curl {auth} 'localhost:8000/api/v1/accounts/?currency=USD'",
        f"  curl -X POST {auth} localhost:8000/api/v1/services/{first_service.pk}/purchase/",
        f"  curl -X POST {auth} -H 'Content-Type: application/json' -d '{transfer}' "
        "localhost:8000/api/v1/transfers/",
        f"  curl {auth} localhost:8000/api/v1/history/",
    ]
