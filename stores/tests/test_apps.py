import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from stores.apps import STOREKEEPER_GROUP, _setup_after_migrate
from stores.models import Store
from stores.permissions import can_operate_stock
from stores.tests.factories import StorekeeperFactory, UserFactory


@pytest.mark.django_db
def test_migrate_creates_configured_stores_and_storekeeper_group(settings):
    settings.STORE_IDS = ["m1", "m2", "m1"]
    _setup_after_migrate(sender=apps.get_app_config("stores"))
    _setup_after_migrate(sender=apps.get_app_config("stores"))  # every migrate: idempotent
    assert Store.objects.filter(store_id__in=["m1", "m2"]).count() == 2
    group = Group.objects.get(name=STOREKEEPER_GROUP)
    assert list(group.permissions.values_list("codename", flat=True)) == ["operate_stock"]


@pytest.mark.django_db
def test_stock_permission_comes_from_group_not_from_signing_in():
    assert can_operate_stock(StorekeeperFactory())
    assert not can_operate_stock(UserFactory())
