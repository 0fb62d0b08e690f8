"""Reads: places and their analytics from the hourly rollups."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.utils import timezone

from core.money import round_money
from core.permissions import AnyUser, is_operator
from receipts.hours import hour_of
from receipts.models import (
    Place,
    PlaceCategoryHour,
    PlaceHour,
    PointOfSalePlace,
    Purchase,
    Receipt,
)

ZERO = Decimal("0.00")
UNCOUNTED_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class HourRange:
    """Hourly buckets whose start lies in [since, until); either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.since is not None:
            queryset = queryset.filter(hour__gte=self.since)
        if self.until is not None:
            queryset = queryset.filter(hour__lt=self.until)
        return queryset


def places() -> QuerySet[Place]:
    return Place.objects.order_by("code")


def place_by_code(code: str) -> Place:
    return Place.objects.get(code=code)


def receipt_by_id(pk: int) -> Receipt:
    return Receipt.objects.get(pk=pk)


def _average(total: Decimal, count: int) -> Decimal:
    return round_money(total / count) if count else ZERO


def place_analytics(*, places: list[Place], hours: HourRange) -> list[dict]:
    """Analytics per place over `hours`, in the order given; three queries whatever the count.

    Per place: purchases, their total and average receipt, VAT and tips, spend and average
    receipt per category (over the receipts holding that category), and the hourly series.
    """
    ids = [place.pk for place in places]
    place_hours = list(
        hours.filter(PlaceHour.objects.filter(place_id__in=ids)).order_by("place_id", "hour")
    )
    categories = (
        hours.filter(PlaceCategoryHour.objects.filter(place_id__in=ids))
        .values("place_id", "category__name")
        .annotate(purchases=Sum("purchases"), spent=Sum("total_spent"))
        .order_by("place_id", "category__name")
    )
    by_category: dict[int, dict] = defaultdict(dict)
    for row in categories:
        by_category[row["place_id"]][row["category__name"]] = {
            "total_spent": round_money(row["spent"]),
            "average_receipt": _average(row["spent"], row["purchases"]),
        }
    series: dict[int, list[PlaceHour]] = defaultdict(list)
    for row in place_hours:
        series[row.place_id].append(row)

    answer = []
    for place in places:
        rows = series[place.pk]
        purchases = sum(row.purchases for row in rows)
        total = sum((row.total_amount for row in rows), ZERO)
        answer.append(
            {
                "place_id": place.code,
                "place_name": place.name,
                "total_purchases": purchases,
                "total_amount": total,
                "average_receipt": _average(total, purchases),
                "taxes_amount": {
                    "total_nds": sum((row.total_nds for row in rows), ZERO),
                    "total_tips": sum((row.total_tips for row in rows), ZERO),
                },
                "category_analytics": by_category.get(place.pk, {}),
                "hourly": [
                    {
                        "hour": timezone.localtime(row.hour),
                        "total_purchases": row.purchases,
                        "total_amount": row.total_amount,
                        "average_receipt": _average(row.total_amount, row.purchases),
                        "total_nds": row.total_nds,
                        "total_tips": row.total_tips,
                    }
                    for row in rows
                ],
            }
        )
    return answer


def last_day_series(*, place: Place, now: datetime | None = None) -> list[dict]:
    """The place's last 24 hours, one entry per hour including empty ones (for the chart)."""
    end = hour_of(now or timezone.now()) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    rows = {
        row.hour: row
        for row in PlaceHour.objects.filter(place=place, hour__gte=start, hour__lt=end)
    }
    series = []
    for n in range(24):
        hour = start + timedelta(hours=n)
        row = rows.get(hour)
        series.append(
            {
                "hour": timezone.localtime(hour),
                "purchases": row.purchases if row else 0,
                "total_amount": row.total_amount if row else ZERO,
            }
        )
    return series


def postable_places(user: AnyUser) -> frozenset[str] | None:
    """The place ids `user` may post receipts for; None means any (operators, superusers)."""
    if is_operator(user):
        return None
    return frozenset(
        PointOfSalePlace.objects.filter(user=user).values_list("place_code", flat=True)
    )


def point_of_sale_places(user: AnyUser) -> QuerySet[PointOfSalePlace]:
    return PointOfSalePlace.objects.filter(user=user).select_related("assigned_by")


def uncounted_receipt_count(*, now: datetime | None = None) -> int:
    """Receipts accepted in the last hour that the consumer has not counted yet (/metrics).

    An hour keeps the per-scrape cost to that hour's receipts (the `received_at` index and one
    probe of the unique `transaction_id` each); older stragglers are the hourly sweeper's.
    """
    now = now or timezone.now()
    return (
        Receipt.objects.filter(received_at__gte=now - UNCOUNTED_WINDOW)
        .filter(~Exists(Purchase.objects.filter(transaction_id=OuterRef("transaction_id"))))
        .count()
    )
