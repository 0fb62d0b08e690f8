from decimal import Decimal

import factory

from accounts.models import Account, ExchangeRate, Service
from accounts.tests.factories import UserFactory


class AccountFactory(factory.django.DjangoModelFactory):
    """An empty account; fund it with `services.deposit` so the ledger stays consistent."""

    class Meta:
        model = Account

    user = factory.SubFactory(UserFactory)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    description = "A useful thing."
    price = Decimal("100.00")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "USD"
    date = factory.Faker("date_this_month")
    rate = Decimal("90.00000000")
    source = "test"
