import factory
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from accounts.models import User
from stores.apps import STOREKEEPER_GROUP
from stores.models import StockItem, Store


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"stock-user-{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def token(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            Token.objects.get_or_create(user=obj)


class OperatorFactory(UserFactory):
    is_staff = True
    is_superuser = True


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
