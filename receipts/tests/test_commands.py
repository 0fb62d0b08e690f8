from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from receipts.models import PlaceCategoryHour, PlaceHour
from receipts.services.consumption import consume_events
from receipts.tests.factories import receipt_payload

pytestmark = pytest.mark.django_db


def test_rebuild_receipt_analytics_recomputes_the_range_from_purchases():
    consume_events(
        events=[
            receipt_payload("a", timestamp="2024-02-07T12:10:00"),
            receipt_payload("b", timestamp="2024-02-07T15:10:00"),
        ]
    )
    PlaceHour.objects.all().delete()  # e.g. rollups lost or never built
    PlaceCategoryHour.objects.all().delete()
    out = StringIO()

    call_command(
        "rebuild_receipt_analytics", "--since", "2024-02-07T12:00", "--until", "2024-02-07T13:00",
        stdout=out,
    )  # fmt: skip

    [row] = PlaceHour.objects.all()
    assert timezone.localtime(row.hour) == datetime(
        2024, 2, 7, 12, tzinfo=timezone.get_current_timezone()
    )
    assert row.purchases == 1
    assert PlaceCategoryHour.objects.count() == 2
    assert "1 place-hours, 2 category-hours" in out.getvalue()

    call_command("rebuild_receipt_analytics", "--since", "2024-02-07", stdout=out)

    assert PlaceHour.objects.count() == 2


def test_rebuild_refuses_a_backward_range():
    with pytest.raises(CommandError):
        call_command("rebuild_receipt_analytics", "--since", "2024-02-08", "--until", "2024-02-07")
