import copy
from decimal import Decimal

import factory
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from accounts.models import User
from receipts.examples import SEED_RECEIPT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def token(self, create, extracted, **kwargs):
        if create:
            Token.objects.get_or_create(user=self)


class PosUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"pos{n}")

    @factory.post_generation
    def post_receipts(self, create, extracted, **kwargs):
        if create:
            self.user_permissions.add(
                Permission.objects.get(codename="post_receipts", content_type__app_label="receipts")
            )


class AnalystFactory(UserFactory):
    username = factory.Sequence(lambda n: f"analyst{n}")
    is_analyst = True


def receipt_payload(transaction_id: str = "tx-1", *, items=None, **overrides) -> dict:
    """A valid receipt like the seed's example; `items` as (quantity, price, category) tuples."""
    body = copy.deepcopy(SEED_RECEIPT)
    body["transaction_id"] = transaction_id
    if items is not None:
        body["items"] = [
            {
                "product_id": f"p{n}",
                "quantity": quantity,
                "price": str(price),
                "category": category,
            }
            for n, (quantity, price, category) in enumerate(items)
        ]
        body["total_amount"] = str(sum(Decimal(str(p)) * q for q, p, _ in items))
    body.update(overrides)
    return body
