import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from receipts.hours import hour_of
from receipts.models import (
    Category,
    DeadLetter,
    Place,
    PlaceCategoryHour,
    PlaceHour,
    Purchase,
    Receipt,
)
from receipts.services import sweeper
from receipts.services.consumption import consume_events
from receipts.services.ingestion import ingest_receipts
from receipts.services.sweeper import receipt_event, republish_stranded, stranded_receipts
from receipts.tests.factories import receipt_payload
from receipts.validation import validate_receipt


def event(transaction_id="tx-1", **overrides) -> dict:
    """A receipt as the stream carries it (canonical form)."""
    return validate_receipt(receipt_payload(transaction_id, **overrides)).canonical()


@pytest.mark.django_db
def test_the_same_event_delivered_twice_is_counted_once():
    first = consume_events(events=[event()])
    second = consume_events(events=[event(), event()])

    assert first.counted == ["tx-1"]
    assert second.counted == []
    assert second.duplicates == ["tx-1"]
    assert Purchase.objects.count() == 1
    hour = PlaceHour.objects.get()
    assert (hour.purchases, hour.total_amount) == (1, Decimal("27.47"))
    assert PlaceCategoryHour.objects.get(category__name="groceries").purchases == 1


@pytest.mark.django_db
def test_consumer_registers_places_and_categories():
    consume_events(events=[event()])

    assert list(Place.objects.values_list("code", "name")) == [("011", "Магазин №1")]
    assert set(Category.objects.values_list("name", flat=True)) == {"groceries", "electronics"}


@pytest.mark.django_db
def test_a_late_receipt_with_an_old_name_does_not_rename_the_place_back():
    consume_events(events=[event("old", timestamp="2024-02-07T10:00:00", place_name="Old")])
    consume_events(events=[event("new", timestamp="2024-02-07T12:00:00", place_name="New")])

    consume_events(events=[event("late", timestamp="2024-02-07T11:00:00", place_name="Old")])

    assert Place.objects.get().name == "New"
    assert Purchase.objects.count() == 3


@pytest.mark.django_db
def test_an_event_reusing_a_counted_id_with_other_content_goes_to_dead_letters():
    consume_events(events=[event()])

    result = consume_events(events=[event(place_name="Elsewhere")])

    assert result.refused == ["tx-1"]
    assert DeadLetter.objects.get().reason == DeadLetter.Reason.CONFLICT
    assert PlaceHour.objects.get().purchases == 1
    assert Place.objects.get().name == "Магазин №1"


@pytest.mark.django_db
def test_an_invalid_event_goes_to_dead_letters_and_the_rest_of_the_batch_is_counted():
    result = consume_events(events=[{"transaction_id": "bad"}, event("good")])

    assert result.counted == ["good"]
    letter = DeadLetter.objects.get()
    assert (letter.transaction_id, letter.reason, letter.channel) == ("bad", "invalid", "stream")


@pytest.mark.django_db
def test_canonical_form_survives_the_round_trip_through_the_stream():
    [result] = ingest_receipts(payloads=[receipt_payload()], channel="checks")
    stored = Receipt.objects.get()

    assert receipt_event(stored) == result.canonical
    assert validate_receipt(result.canonical).canonical() == result.canonical


@pytest.mark.django_db
def test_hour_is_taken_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # +05:30: hours do not start on UTC hours
    with timezone.override("Asia/Kolkata"):
        consume_events(events=[event(timestamp="2024-02-07T12:10:00")])
        hour = PlaceHour.objects.get().hour

        assert timezone.localtime(hour).isoformat() == "2024-02-07T12:00:00+05:30"


@pytest.mark.django_db
def test_stranded_receipts_are_published_again():
    # A receipt whose event never reached the consumer (e.g. the broker was down).
    ingest_receipts(payloads=[receipt_payload("lost"), receipt_payload("ok")], channel="checks")
    consume_events(events=[event("ok")])
    later = timezone.now() + timedelta(minutes=5)

    assert [r.transaction_id for r in stranded_receipts(now=later)] == ["lost"]
    assert stranded_receipts(now=timezone.now()).count() == 0  # too fresh to call stranded

    from config.celery import app

    app.conf.task_always_eager = True  # the task runs here, on this test's connection
    try:
        assert republish_stranded(now=later) == 1
    finally:
        app.conf.task_always_eager = False
    assert set(Purchase.objects.values_list("transaction_id", flat=True)) == {"lost", "ok"}


@pytest.mark.django_db
def test_sweeper_drains_receipts_stranded_days_ago_in_bounded_batches(monkeypatch):
    # An outage of three days, more receipts than one batch.
    ingest_receipts(payloads=[receipt_payload(f"old-{n}") for n in range(25)], channel="checks")
    Receipt.objects.update(received_at=timezone.now() - timedelta(days=3))
    batches = []
    from config.celery import app

    app.conf.task_always_eager = True  # the task runs here, on this test's connection
    real_publish = sweeper.publish
    monkeypatch.setattr(
        sweeper, "publish", lambda events: (batches.append(len(events)), real_publish(events))
    )
    try:
        assert republish_stranded(batch_size=10) == 25
    finally:
        app.conf.task_always_eager = False

    assert batches == [10, 10, 5]
    assert Purchase.objects.count() == 25
    assert republish_stranded(batch_size=10) == 0  # nothing left


@pytest.mark.postgres_only  # concurrent writers on row locks; SQLite admits one writer
@pytest.mark.django_db(transaction=True)
def test_parallel_consumers_of_the_same_events_count_each_once():
    events = [event(f"p{n}", timestamp=f"2024-02-07T12:{n:02d}:00") for n in range(40)]
    errors = []

    def consume(batch):
        try:
            consume_events(events=batch)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=consume, args=(events[::step],)) for step in (1, 1, 2, 3, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Purchase.objects.count() == 40
    hour = PlaceHour.objects.get(hour=hour_of(Purchase.objects.first().timestamp))
    assert hour.purchases == 40
    assert hour.total_amount == Decimal("27.47") * 40
