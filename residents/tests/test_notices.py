"""Notices: one per resident and charge when a run completes, sent after commit, never twice
for a resumed run; a recalculation sends a correction only where the total changed; the
reminder goes to residents whose meters have no reading near the window's close."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from billing import runs as billing_runs
from billing import services as billing
from billing.models import RentRun
from housing.models import MeterReading
from residents import notices
from residents.models import Notification, Residency
from residents.tests.factories import PAST, house_with_residents, meter_of, run_rent

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(tmp_path, settings):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.SMS_SEND_DELAY_SECONDS = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return tmp_path


def phones(house, users):
    for i, user in enumerate(users):
        user.phone = f"+7999{house.pk:03d}{i:04d}"
        user.save(update_fields=["phone"])


def test_completion_queues_notices_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    house, users = house_with_residents(flats=2)
    sent = []
    monkeypatch.setattr("residents.receivers._enqueue", sent.append)
    from housing.tests.factories import global_tariffs

    global_tariffs()
    run, _created = billing.start_rent_run(house=house, year=2024, month=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        billing_runs.execute_run(run_id=run.pk)
    assert sent == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert sent == [str(run.pk)]


def test_a_house_without_residents_sends_no_task(django_capture_on_commit_callbacks):
    """Nobody to notify: the completion leaves nothing to run after commit (a Celery message
    per run cost more than completing a small run)."""
    from housing.tests.factories import global_tariffs, house_with_flats

    global_tariffs()
    house, _users = house_with_residents(flats=1)
    empty = house_with_flats(flats=2)  # flats, charged, but nobody registered
    for target, expected in ((empty, 0), (house, 1)):
        run, _created = billing.start_rent_run(house=target, year=2024, month=1)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            billing_runs.execute_run(run_id=run.pk)
        assert RentRun.objects.get(pk=run.pk).status == RentRun.Status.COMPLETED
        assert len(callbacks) == expected, target


def test_one_notice_per_resident_sms_or_email_and_never_twice(outbox):
    house, users = house_with_residents(flats=3)
    phones(house, users[:2])  # the third has only an e-mail
    Residency.objects.create(user=users[0], flat=house.flats.get(number=2))  # lives in two
    run = run_rent(house, *PAST)
    assert notices.queue_rent_notices(run_id=run.pk, batch_size=2) == 4
    assert notices.queue_rent_notices(run_id=run.pk, batch_size=2) == 0  # a resumed queueing
    assert notices.send_pending(batch_size=3) == 4
    assert notices.send_pending() == 0
    files = sorted(p.read_text() for p in outbox.glob("*.txt"))
    assert len(files) == 3
    assert all("2024-01" in text and "due 2024-02-10" in text for text in files)
    [email] = mail.outbox
    assert email.to == [users[2].email]
    assert str(house.flats.get(number=3).number) in email.body


def test_a_resumed_queueing_starts_after_the_last_flat_queued(outbox):
    house, users = house_with_residents(flats=3)
    phones(house, users)
    run = run_rent(house, *PAST)
    notices.queue_rent_notices(run_id=run.pk)
    Notification.objects.filter(flat__number=3).delete()  # as if killed after two batches
    Notification.objects.filter(flat__number=1).delete()
    assert notices.queue_rent_notices(run_id=run.pk) == 1  # only flat 3 again
    assert sorted(Notification.objects.values_list("flat__number", flat=True)) == [2, 3]


def test_recalculation_sends_a_correction_where_the_total_changed(outbox):
    house, users = house_with_residents(flats=2)
    phones(house, users)
    run = run_rent(house, *PAST)
    notices.queue_rent_notices(run_id=run.pk)
    same = run_rent(house, *PAST, recalculate=True)
    assert notices.queue_rent_notices(run_id=same.pk) == 0  # nothing changed
    meter = meter_of(users[0])
    MeterReading.objects.filter(meter=meter, year=2024, month=1).update(value=Decimal("99"))
    MeterReading.objects.create(meter=meter, year=2023, month=12, value=Decimal("1"))
    changed = run_rent(house, *PAST, recalculate=True)
    assert notices.queue_rent_notices(run_id=changed.pk) == 1
    correction = Notification.objects.get(kind=Notification.Kind.CORRECTION)
    assert correction.user_id == users[0].pk
    assert "Corrected" in correction.text


def test_a_failed_delivery_stays_pending_for_the_next_round(outbox, settings):
    house, users = house_with_residents(flats=1)
    phones(house, users)
    run = run_rent(house, *PAST)
    notices.queue_rent_notices(run_id=run.pk)
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/"  # nothing listens
    assert notices.send_pending() == 0
    notice = Notification.objects.get()
    assert notice.status == Notification.Status.PENDING
    assert notice.attempts == 1
    settings.SMS_BACKEND = "file"
    assert notices.send_pending() == 1


def test_reminder_before_the_window_closes_to_those_without_readings(outbox):
    house, users = house_with_residents(flats=2)
    phones(house, users)
    today = date(2024, 2, 24)
    MeterReading.objects.create(meter=meter_of(users[0]), year=2024, month=2, value=Decimal("9"))
    with override_settings(READINGS_WINDOW_DAYS="15-25", READINGS_REMINDER_DAYS_BEFORE=2):
        assert notices.queue_reminders(today=date(2024, 2, 20)) == 0  # too early
        assert notices.queue_reminders(today=today) == 1
        assert notices.queue_reminders(today=today) == 0  # once a month
    reminder = Notification.objects.get()
    assert reminder.user_id == users[1].pk
    assert "2024-02-25" in reminder.text


def test_runs_without_residents_queue_nothing(outbox):
    house, users = house_with_residents(flats=1)
    Residency.objects.all().delete()
    run = run_rent(house, *PAST)
    assert notices.queue_rent_notices(run_id=run.pk) == 0
    assert RentRun.objects.get(pk=run.pk).status == RentRun.Status.COMPLETED
