import io

import pytest
from rest_framework.authtoken.models import Token

from accounts import demo as accounts_demo
from receipts import demo
from receipts.models import Purchase, Receipt

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_gives_the_analyst_something_to_read(client_for):
    accounts_demo.seed(stdout=io.StringIO())
    notes = demo.seed(stdout=io.StringIO())
    receipts, purchases = Receipt.objects.count(), Purchase.objects.count()

    again = demo.seed(stdout=io.StringIO())

    assert receipts > 24
    assert purchases == receipts
    assert (Receipt.objects.count(), Purchase.objects.count()) == (receipts, purchases)
    pos = demo.pos_user()
    assert pos.has_perm("receipts.post_receipts")
    assert Token.objects.get(user=pos).key in notes[0]
    assert "0 demo receipts added" in again[0]
    analyst = accounts_demo.demo_user("analyst")
    data = client_for(analyst).get("/api/analytics/").json()
    assert data["count"] == 3
    assert sum(place["total_purchases"] for place in data["results"]) == purchases
