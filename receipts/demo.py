"""Demo data: a point-of-sale user with a token, and a day of receipts from three shops.

Receipt ids are derived from the hour they belong to and their content from the id, so running
the seed again adds nothing for hours already seeded (a later run adds the newer hours).
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import OutputWrapper
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from receipts.hours import hour_of
from receipts.models import Channel
from receipts.services.ingestion import ingest_receipts
from receipts.services.points_of_sale import assign_place

POS_USERNAME = "pos"
POS_GROUP = "Points of sale"
POS_PASSWORD = "pos-demo-pass"  # noqa: S105  the demo's documented sign-in
PLACES = {"011": "Магазин №1", "012": "Магазин №2", "021": "Кафе «Уют»"}
CATALOGUE = [
    ("milk", "groceries", Decimal("89.90")),
    ("bread", "groceries", Decimal("45.50")),
    ("cheese", "groceries", Decimal("399.00")),
    ("usb-cable", "electronics", Decimal("349.00")),
    ("headphones", "electronics", Decimal("1990.00")),
    ("coffee", "cafe", Decimal("180.00")),
    ("croissant", "cafe", Decimal("120.00")),
    ("notebook", "stationery", Decimal("75.00")),
]
HOURS = 24


def pos_user() -> User:
    user, created = User.objects.get_or_create(
        username=POS_USERNAME, defaults={"email": "pos@example.com"}
    )
    if created:
        user.set_password(POS_PASSWORD)
        user.save(update_fields=["password"])
    # Through a group, as an operator would do it for many shops.
    group, _ = Group.objects.get_or_create(name=POS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="post_receipts", content_type__app_label="receipts")
    )
    user.groups.add(group)
    for place_id in PLACES:  # a point of sale posts only for the places assigned to it
        assign_place(user=user, place_code=place_id)
    return user


def demo_receipt(transaction_id: str, place_id: str, hour: datetime) -> dict[str, Any]:
    rng = random.Random(transaction_id)
    items: list[dict[str, Any]] = []
    for product_id, category, price in rng.sample(CATALOGUE, rng.randint(1, 3)):
        items.append(
            {
                "product_id": product_id,
                "quantity": rng.randint(1, 3),
                "price": str(price),
                "category": category,
            }
        )
    total = sum(Decimal(i["price"]) * i["quantity"] for i in items)
    moment = hour + timedelta(minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
    return {
        "transaction_id": transaction_id,
        "timestamp": moment.isoformat(),
        "items": items,
        "total_amount": str(total),
        "nds_amount": str((total * Decimal(20) / Decimal(120)).quantize(Decimal("0.01"))),
        "tips_amount": str(Decimal(rng.choice([0, 0, 0, 50, 100]))),
        "payment_method": rng.choice(["credit_card", "cash", "sbp"]),
        "place_id": place_id,
        "place_name": PLACES[place_id],
    }


def demo_receipts(now: datetime | None = None) -> list[dict[str, Any]]:
    current = hour_of(now or timezone.now())
    receipts = []
    for back in range(HOURS, 0, -1):
        hour = current - timedelta(hours=back)
        for place_id in PLACES:
            count = random.Random(f"{place_id}{hour:%Y%m%d%H}").randint(1, 6)
            for n in range(count):
                tid = f"demo-{place_id}-{hour:%Y%m%d%H}-{n}"
                receipts.append(demo_receipt(tid, place_id, hour))
    return receipts


def seed(*, stdout: OutputWrapper) -> list[str]:
    user = pos_user()
    token, _ = Token.objects.get_or_create(user=user)
    results = ingest_receipts(
        payloads=demo_receipts(), caller=user, channel=Channel.DEMO, count_now=True
    )
    created = sum(1 for r in results if r.outcome == "created")
    return [
        f"receipts: point of sale username={POS_USERNAME} password={POS_PASSWORD} "
        f"token={token.key} ({created} demo receipts added, {len(PLACES)} places)",
        f"receipts: curl -X POST localhost:8000/api/checks/ -H 'Authorization: Token {token.key}' "
        "-H 'Content-Type: application/json' -d @receipt.json",
        "receipts: the analyst reads GET /api/analytics/ and /api/analytics/011/chart.svg",
    ]
