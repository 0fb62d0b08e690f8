"""The Celery transport with a real worker process on the `receipts` queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing import celery_worker, wait_until
from receipts.hours import hour_of
from receipts.models import PlaceHour, Purchase
from receipts.tasks import process_receipt_events, rollup_recent_hours
from receipts.tests.factories import PosUserFactory, receipt_payload
from receipts.validation import validate_receipt

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_receipts_queue():
    """Events left in the queue by an earlier run must not be counted into this one."""
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("receipts")


def test_posted_receipts_are_counted_by_the_worker_once_each(journal_path, client_for):
    client = client_for(PosUserFactory())
    now = timezone.now()
    with celery_worker(queues="receipts", RECEIPTS_JOURNAL_PATH=str(journal_path)):
        single = client.post(
            "/api/checks/", receipt_payload("w1", timestamp=now.isoformat()), format="json"
        )
        bulk = client.post(
            "/api/checks/bulk/",
            [receipt_payload(f"w{n}", timestamp=now.isoformat()) for n in range(1, 6)],
            format="json",
        )
        # The same event delivered twice more (a redelivery) must not count again.
        event = validate_receipt(receipt_payload("w1", timestamp=now.isoformat())).canonical()
        process_receipt_events.delay([event])
        process_receipt_events.delay([event])
        wait_until(lambda: Purchase.objects.count() == 5, timeout=30)
        rollup_recent_hours.delay()
        wait_until(lambda: "rollup" in journal_path.read_text(), timeout=30)

    assert single.status_code == 201
    assert bulk.json()["created"] == 4
    assert bulk.json()["duplicates"] == 1
    assert Purchase.objects.count() == 5
    row = PlaceHour.objects.get(hour=hour_of(now))
    assert row.purchases == 5


def test_hourly_job_recounts_recent_hours_and_sends_stranded_receipts(journal_path):
    from receipts.models import Receipt
    from receipts.services.ingestion import ingest_receipts

    # Stored but never counted (its event was lost), received 10 minutes ago.
    ingest_receipts(payloads=[receipt_payload("stranded")], channel="checks")
    Receipt.objects.update(received_at=timezone.now() - timedelta(minutes=10))

    with celery_worker(queues="receipts", RECEIPTS_JOURNAL_PATH=str(journal_path)):
        rollup_recent_hours.delay()
        wait_until(lambda: Purchase.objects.filter(transaction_id="stranded").exists())
