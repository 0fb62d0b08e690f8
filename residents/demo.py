"""Demo residents: alice lives in flat 1 of Первая улица 1, rent is paid to the operator's
account, and a flat code for flat 2 waits to be redeemed (e.g. by bob)."""

from datetime import timedelta

from django.core.management.base import OutputWrapper
from django.utils import timezone

from accounts.balances import services as balances
from accounts.demo import demo_user
from housing.models import Flat, House
from residents import services
from residents.models import CollectionAccount, FlatCode


def seed(*, stdout: OutputWrapper) -> list[str]:
    house = House.objects.filter(street__name="Первая улица", number=1).first()
    if house is None:
        return []
    alice, operator = demo_user("alice"), demo_user("operator")
    flat = Flat.objects.get(house=house, number=1)
    services.link_resident(flat=flat, user=alice, by=operator)
    collection, _ = balances.open_account(user=operator)
    for demo_house in House.objects.all():
        CollectionAccount.objects.get_or_create(house=demo_house, defaults={"account": collection})
    second = Flat.objects.get(house=house, number=2)
    code = FlatCode.objects.filter(
        flat=second, used_at__isnull=True, expires_at__gt=timezone.now() + timedelta(hours=1)
    ).first() or services.create_flat_code(flat=second, by=operator)
    return [
        f"residents: alice lives in {flat}; rent is paid to the operator's account; flat code "
        f"{code.code} makes its redeemer a resident of {second}: curl -X POST -H "
        "'Authorization: Token <bob token>' localhost:8000/api/v1/me/flats/redeem/ "
        f"-d code={code.code}",
    ]
