"""Rent notices benchmark: queue and send one notice per flat after a rent run.

Builds a city in PostgreSQL (default 100,000 flats in 500 houses, one resident with a phone per
flat), runs the month's rent for every house through the Celery task's code in this process,
then queues the notices of every completed run (residents.notices.queue_rent_notices, committed
batches) and sends them all through the file SMS backend into a temporary directory
(residents.notices.send_pending). Prints the rent run's own time beside the queueing and
sending times, peak RSS, and deletes the city (unless --keep).

    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/notifications.py
"""

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench import rent  # noqa: E402
from billing.models import RentRun  # noqa: E402
from billing.signals import rent_run_completed  # noqa: E402
from housing.models import Flat  # noqa: E402
from residents import notices, receivers  # noqa: E402
from residents.models import Notification, Residency  # noqa: E402


def add_residents(house_ids: list[int], tag: str) -> int:
    """One user with a phone per flat, linked as its resident (set-based SQL)."""
    users, residencies, flats = (
        User._meta.db_table,
        Residency._meta.db_table,
        Flat._meta.db_table,
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {users} (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, phone, bio, is_analyst) "
            "SELECT '!', false, %s || f.id, '', '', '', false, true, now(), "
            "'+7' || lpad(f.id::text, 10, '0'), '', false "
            f"FROM {flats} f WHERE f.house_id = ANY(%s)",
            [f"bench-{tag}-", house_ids],
        )
        cur.execute(
            f"INSERT INTO {residencies} (user_id, flat_id, created_at) "
            f"SELECT u.id, substring(u.username from %s)::bigint, now() FROM {users} u "
            "WHERE u.username LIKE %s",
            [len(f"bench-{tag}-") + 1, f"bench-{tag}-%"],
        )
        return cur.rowcount


def run_rent(house_ids: list[int]) -> tuple[float, list]:
    runs = RentRun.objects.bulk_create(
        RentRun(house_id=house_id, year=rent.YEAR, month=rent.MONTH) for house_id in house_ids
    )
    started = time.perf_counter()
    for run in runs:
        rent.calculate_rent(str(run.pk))
    return time.perf_counter() - started, runs


def cleanup(tag: str) -> None:
    like = f"bench-{tag}-%"
    users = f"SELECT id FROM {User._meta.db_table} WHERE username LIKE %s"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {Notification._meta.db_table} WHERE user_id IN ({users})", [like])
        cur.execute(f"DELETE FROM {Residency._meta.db_table} WHERE user_id IN ({users})", [like])
        cur.execute(f"DELETE FROM {User._meta.db_table} WHERE username LIKE %s", [like])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flats", type=int, default=100_000, help="flats in total")
    parser.add_argument("--houses", type=int, default=500, help="houses")
    parser.add_argument("--batch", type=int, default=settings.NOTIFY_BATCH_SIZE, help="batch")
    parser.add_argument("--keep", action="store_true", help="keep the generated city")
    args = parser.parse_args()
    logging.getLogger("billing").setLevel(logging.WARNING)
    logging.getLogger("residents").setLevel(logging.WARNING)
    if connection.vendor != "postgresql":
        raise SystemExit("bench/notifications.py needs PostgreSQL (set DATABASE_URL)")
    # This process queues the notices itself: no Celery message per completed run.
    rent_run_completed.disconnect(receivers.queue_rent_notices_on_commit)
    outbox = Path(tempfile.mkdtemp(prefix="bench-sms-"))
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "file", str(outbox)
    settings.SMS_SEND_DELAY_SECONDS = 0

    started = time.perf_counter()
    street_id, house_ids = rent.build_city(houses=args.houses, flats=args.flats, meters=1, months=2)
    tag = uuid.uuid4().hex[:8]
    residents = add_residents(house_ids, tag)
    print(
        f"city: {args.houses} houses, {residents} flats with one resident each; "
        f"built in {time.perf_counter() - started:.1f} s"
    )
    try:
        rent_s, runs = run_rent(house_ids)
        rss_after_rent = rent.rss_mb()
        started = time.perf_counter()
        queued = sum(notices.queue_rent_notices(run_id=r.pk, batch_size=args.batch) for r in runs)
        queue_s = time.perf_counter() - started
        rss_after_queue = rent.rss_mb()
        started = time.perf_counter()
        sent = notices.send_pending(batch_size=args.batch)
        send_s = time.perf_counter() - started
        files = sum(1 for _ in outbox.glob("*.txt"))
        print(f"rent run:  {rent_s:7.2f} s for {residents} flats ({len(runs)} runs)")
        print(f"queueing:  {queue_s:7.2f} s for {queued} notices = {queued / queue_s:,.0f}/s")
        print(
            f"sending:   {send_s:7.2f} s for {sent} SMS files = {sent / send_s:,.0f}/s "
            f"({files} files written, batch {args.batch})"
        )
        print(
            f"notices / rent: {(queue_s + send_s) / rent_s:.2f}x the rent run's time; "
            f"peak RSS {rent.rss_mb():.1f} MB (after the rent: {rss_after_rent:.1f} MB, "
            f"after queueing: {rss_after_queue:.1f} MB)"
        )
        if queued != residents or sent != residents or files != residents:
            raise SystemExit("not every flat got exactly one notice")
    finally:
        if not args.keep:
            cleanup(tag)
            rent.cleanup(street_id, house_ids)
            for path in outbox.glob("*.txt"):
                path.unlink()
            outbox.rmdir()


if __name__ == "__main__":
    main()
