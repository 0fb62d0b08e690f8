import factory

from billing.models import RentRun
from housing.tests.factories import HouseFactory


class RentRunFactory(factory.django.DjangoModelFactory[RentRun]):
    class Meta:
        model = RentRun

    house = factory.SubFactory(HouseFactory)
    year = 2024
    month = 1
