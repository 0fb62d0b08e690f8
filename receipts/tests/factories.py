import copy
from decimal import Decimal

import factory
from django.contrib.auth.models import Permission

from accounts.tests.factories import AnalystFactory, TokenUserFactory
from accounts.tests.factories import TokenUserFactory as UserFactory
from receipts.examples import EXAMPLE_RECEIPT
from receipts.models import PointOfSalePlace

__all__ = ["AnalystFactory", "PosUserFactory", "UserFactory", "receipt_payload"]


# The places a test point of sale is assigned unless told otherwise (the example receipt's first).
POS_PLACES = ("011", "012", "021")


class PosUserFactory(TokenUserFactory):
    """A point of sale (the permission) assigned to `places` (default POS_PLACES)."""

    username = factory.Sequence(lambda n: f"pos{n}")

    @factory.post_generation
    def post_receipts(self, create, extracted, **kwargs):
        if create:
            self.user_permissions.add(
                Permission.objects.get(codename="post_receipts", content_type__app_label="receipts")
            )

    @factory.post_generation
    def places(self, create, extracted, **kwargs):
        if create:
            for code in POS_PLACES if extracted is None else extracted:
                PointOfSalePlace.objects.create(user=self, place_code=code)


def receipt_payload(transaction_id: str = "tx-1", *, items=None, **overrides) -> dict:
    """A valid receipt like the API's example; `items` as (quantity, price, category) tuples."""
    body = copy.deepcopy(EXAMPLE_RECEIPT)
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
