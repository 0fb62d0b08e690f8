import factory
from django.contrib.auth.models import Group

from accounts.tests.factories import OperatorFactory, TokenUserFactory
from stores.apps import STOREKEEPER_GROUP
from stores.models import StockItem, Store

__all__ = [
    "OperatorFactory",
    "StockItemFactory",
    "StoreFactory",
    "StorekeeperFactory",
    "UserFactory",
]


class UserFactory(TokenUserFactory):
    username = factory.Sequence(lambda n: f"stock-user-{n}")


class StorekeeperFactory(UserFactory):
    @factory.post_generation
    def storekeeper(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get(name=STOREKEEPER_GROUP))


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ["store_id"]

    store_id = factory.Sequence(lambda n: f"store{n}")


class StockItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockItem

    store = factory.SubFactory(StoreFactory)
    item_id = factory.Sequence(lambda n: f"item{n}")
    quantity = 10
