"""Receipts benchmark: HTTP ingest rates, POST-to-counted latency, rollup time, bare inserts.

Runs against a scratch database `<DATABASE_URL's name>_bench` (created, migrated, dropped at
the end unless --keep-db), a gunicorn server and a Celery worker it starts itself on free
loopback ports, and prints its figures. Tests never assert speed; this is where it is measured.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/hc \\
        REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/receipts.py [--quick]
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from _harness import ServerCpu, free_port, healthz_round, start_process, stop, wait_ready  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=3000, help="receipts POSTed one by one")
    parser.add_argument("--bulk", type=int, default=30000, help="receipts POSTed in bulk")
    parser.add_argument("--bulk-size", type=int, default=1000, help="receipts per bulk request")
    parser.add_argument("--latency", type=int, default=200, help="receipts timed POST-to-counted")
    parser.add_argument("--latency-rate", type=float, default=20, help="their POSTs per second")
    parser.add_argument("--rollup-rows", type=int, default=1_000_000, help="purchases to roll up")
    parser.add_argument("--bare", type=int, default=3000, help="bare inserts, one per txn")
    parser.add_argument("--bare-batched", type=int, default=50000, help="bare rows, batched")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.quick:
        args.single, args.bulk, args.latency = 500, 5000, 50
        args.rollup_rows, args.bare, args.bare_batched = 100_000, 500, 10000
    return args


def bench_database_url() -> tuple[str, str, str]:
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the bench uses <name>_bench).")
    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_bench"
    admin = urlunparse(parsed._replace(path="/postgres"))
    return urlunparse(parsed._replace(path=f"/{name}")), admin, name


def receipt(tid: str, when: datetime) -> dict:
    return {
        "transaction_id": tid,
        "timestamp": when.isoformat(),
        "items": [
            {"product_id": "p1", "quantity": 2, "price": 10.99, "category": "groceries"},
            {"product_id": "p2", "quantity": 1, "price": 5.49, "category": "electronics"},
        ],
        "total_amount": 27.47,
        "nds_amount": 2.47,
        "tips_amount": 3.0,
        "payment_method": "credit_card",
        "place_id": f"{hash(tid) % 20:03d}",
        "place_name": "Bench shop",
    }


class Server:
    def __init__(self, env: dict, workers: int):
        self.port = free_port()
        self.log = Path(tempfile.mkstemp(prefix="bench-web-", suffix=".log")[1])
        cmd = [
            str(BASE_DIR / ".venv/bin/gunicorn"), "config.wsgi", "--bind",
            f"127.0.0.1:{self.port}", "--workers", str(workers), "--log-level", "warning",
        ]  # fmt: skip
        self.proc = start_process(cmd, env, self.log)
        wait_ready(self.port, self.proc, self.log, timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s ({n:,} in {seconds:.2f}s)"


def post_all(url: str, token: str, bodies: list, clients: int) -> float:
    import httpx

    local = threading.local()

    def send(body) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=60)
        response = local.client.post(url, json=body)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, bodies))
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    bench_url, admin_url, bench_name = bench_database_url()
    import psycopg2

    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        cur.execute(f'CREATE DATABASE "{bench_name}"')
    journal_dir = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "RECEIPTS_TRANSPORT": "celery",
        "RECEIPTS_JOURNAL_PATH": str(journal_dir / "receipts.jsonl"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    print(f"Scratch database {bench_name}: migrating ...", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env,
        check=True,
    )  # fmt: skip

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth.models import Permission
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from config.celery import app

    pos = User.objects.create(username="bench-pos")
    pos.user_permissions.add(Permission.objects.get(codename="post_receipts"))
    from receipts.services.points_of_sale import assign_place

    for n in range(20):  # the places receipt() posts for
        assign_place(user=pos, place_code=f"{n:03d}")
    token = Token.objects.create(user=pos).key
    with app.connection_for_write() as conn:  # stale events would be counted into this run
        # kombu's channels all have queue_purge; its StdChannel stub does not declare it.
        conn.default_channel.queue_purge("receipts")  # type: ignore[attr-defined]

    server = Server(env, args.web_workers)
    worker_log = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
    worker = start_process(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "receipts",
            "--concurrency", "1", "--loglevel", "WARNING", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        env, worker_log,
    )  # fmt: skip
    figures: dict[str, float] = {}
    try:
        now = datetime.now(UTC)
        print(f"web: gunicorn x{args.web_workers} on {server.url}; clients: {args.clients}")
        cpu = ServerCpu(server.proc.pid, bench_name)
        reference = healthz_round(server.port, cpu, clients=args.clients)
        print(
            f"GET /healthz (reference): {reference['rate']:,.0f}/s, server CPU "
            f"{reference['cpu_ms']:.3f} ms/request"
        )

        bodies = [receipt(f"s-{n}", now) for n in range(args.single)]
        cpu.start()
        seconds = post_all(f"{server.url}/api/checks/", token, bodies, args.clients)
        single_cpu_ms = 1000 * cpu.stop() / args.single
        figures["single"] = args.single / seconds
        print(
            f"POST /api/checks/ one receipt per request: {rate(args.single, seconds)}; server "
            f"CPU {single_cpu_ms:.3f} ms/request ({single_cpu_ms / reference['cpu_ms']:.1f}x "
            "GET /healthz; the Celery worker's counting not included)"
        )

        batches = [
            [receipt(f"b-{start + n}", now) for n in range(args.bulk_size)]
            for start in range(0, args.bulk, args.bulk_size)
        ]
        seconds = post_all(f"{server.url}/api/checks/bulk/", token, batches, 2)
        figures["bulk"] = args.bulk / seconds
        print(
            f"POST /api/checks/bulk/ ({args.bulk_size} per request, 2 clients): "
            f"{rate(args.bulk, seconds)}"
        )

        from receipts.models import Purchase, Receipt

        drain_started = time.perf_counter()
        expected = Receipt.objects.count()
        while Purchase.objects.count() < expected:
            if time.perf_counter() - drain_started > 600:
                sys.exit(f"worker did not drain:\n{worker_log.read_text()[-2000:]}")
            time.sleep(0.5)
        print(
            f"worker counted the backlog of {expected:,} in "
            f"{time.perf_counter() - drain_started:.1f}s after the last POST"
        )

        import httpx

        sent: dict[str, float] = {}
        with httpx.Client(headers={"Authorization": f"Token {token}"}) as client:
            for n in range(args.latency):
                tid = f"l-{n}"
                sent[tid] = time.time()
                client.post(f"{server.url}/api/checks/", json=receipt(tid, now))
                time.sleep(max(0.0, 1 / args.latency_rate - (time.time() - sent[tid])))
        deadline = time.monotonic() + 60
        while Purchase.objects.filter(transaction_id__in=sent).count() < len(sent):
            if time.monotonic() > deadline:
                sys.exit("latency receipts were not counted within 60s")
            time.sleep(0.2)
        delays = sorted(
            (counted.timestamp() - sent[tid]) * 1000
            for tid, counted in Purchase.objects.filter(transaction_id__in=sent).values_list(
                "transaction_id", "counted_at"
            )
        )
        p50 = statistics.median(delays)
        p95 = delays[int(len(delays) * 0.95) - 1]
        figures["p95"] = p95
        print(
            f"POST-to-counted (Celery, {args.latency} receipts at {args.latency_rate:g}/s): "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {delays[-1]:.0f} ms"
        )
    finally:
        stop(server.proc)
        stop(worker)

    bare_one, bare_batched = bare_inserts(bench_url, args)
    figures["bare_one"], figures["bare_batched"] = bare_one, bare_batched
    rollup_seconds = rollup(connection, args)
    print()
    print("Ratios")
    print(f"  single POST / bare insert one per txn: {figures['single'] / bare_one:.2f}")
    print(
        f"  bulk POST / bare insert in batches of 100: {figures['bulk'] / bare_batched:.2f}"
        " (target >= 0.3)"
    )
    print(f"  rollup of {args.rollup_rows:,} receipts: {rollup_seconds:.2f}s (target < 3 s)")
    print(f"  p95 POST-to-counted: {figures['p95']:.0f} ms (target < 2000 ms)")

    connection.close()
    if not args.keep_db:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')


def bare_inserts(database_url: str, args) -> tuple[float, float]:
    """INSERT ... ON CONFLICT DO NOTHING of the same rows into a copy of the receipts table."""
    import json

    from psycopg2.extras import execute_values

    from receipts.validation import validate_receipt

    now = datetime.now(UTC)
    sample = validate_receipt(receipt("x", now))
    items = json.dumps(sample.canonical()["items"])

    def row(tid: str) -> tuple:
        return (tid, now, "001", "Bench shop", "credit_card", Decimal("27.47"), Decimal("2.47"),
                Decimal("3.00"), items, "f" * 64, "bench", None, now)  # fmt: skip

    columns = (
        "transaction_id, timestamp, place_id, place_name, payment_method, total_amount, "
        "nds_amount, tips_amount, items, fingerprint, channel, posted_by_id, received_at"
    )
    import psycopg2

    raw = psycopg2.connect(database_url)
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_bare")
        cur.execute("CREATE TABLE bench_bare (LIKE receipts_receipt INCLUDING ALL)")
        raw.commit()
        sql = (
            f"INSERT INTO bench_bare ({columns}) VALUES %s ON CONFLICT (transaction_id) DO NOTHING"
        )
        started = time.perf_counter()
        for n in range(args.bare):
            execute_values(cur, sql, [row(f"o-{n}")])
            raw.commit()
        one = args.bare / (time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, args.bare_batched, 100):
            execute_values(cur, sql, [row(f"m-{start + n}") for n in range(100)], page_size=100)
            raw.commit()
        batched = args.bare_batched / (time.perf_counter() - started)
        cur.execute("DROP TABLE bench_bare")
        raw.commit()
    raw.close()
    print(f"bare INSERT ... ON CONFLICT DO NOTHING, one per transaction: {one:,.0f} rows/s")
    print(f"bare INSERT ... ON CONFLICT DO NOTHING, batches of 100: {batched:,.0f} rows/s")
    return one, batched


def rollup(connection, args) -> float:
    """Fill `rollup_rows` purchases over the last 24 hours (2 categories each) and roll up."""
    from receipts.services.rollups import rebuild_rollups, rollup_recent_hours

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    print(f"Filling {args.rollup_rows:,} purchases for the rollup ...", flush=True)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO receipts_place (code, name, named_at, first_seen_at) "
            "SELECT 'R' || g, 'Rollup shop ' || g, now(), now() FROM generate_series(1, 50) g "
            "ON CONFLICT DO NOTHING"
        )
        cur.execute(
            "INSERT INTO receipts_category (name) SELECT 'cat-' || g FROM generate_series(1, 6) g "
            "ON CONFLICT DO NOTHING"
        )
        cur.execute("SELECT min(id), max(id) FROM receipts_place WHERE code LIKE 'R%%'")
        p_min, p_max = cur.fetchone()
        cur.execute("SELECT min(id), max(id) FROM receipts_category WHERE name LIKE 'cat-%%'")
        c_min, c_max = cur.fetchone()
        started = time.perf_counter()
        cur.execute(
            "INSERT INTO receipts_purchase (transaction_id, place_id, timestamp, hour, "
            "total_amount, nds_amount, tips_amount, fingerprint, counted_at) "
            "SELECT 'roll-' || g, %(p_min)s + g %% (%(p_max)s - %(p_min)s + 1), ts, "
            "date_trunc('hour', ts), 27.47, 2.47, (g %% 4)::numeric, 'f', now() "
            "FROM (SELECT g, %(now)s::timestamptz - (g %% 86400) * interval '1 second' AS ts "
            "FROM generate_series(1, %(n)s) g) s",
            {"p_min": p_min, "p_max": p_max, "now": now, "n": args.rollup_rows},
        )
        cur.execute(
            "INSERT INTO receipts_purchasecategory (purchase_id, category_id, place_id, hour, "
            "spent) SELECT p.id, %(c_min)s + (p.id + k) %% (%(c_max)s - %(c_min)s + 1), "
            "p.place_id, p.hour, 10.00 + k FROM receipts_purchase p "
            "CROSS JOIN (VALUES (0), (1)) AS v(k) WHERE p.transaction_id LIKE 'roll-%%'",
            {"c_min": c_min, "c_max": c_max},
        )
        cur.execute("ANALYZE receipts_purchase; ANALYZE receipts_purchasecategory")
        print(f"  filled in {time.perf_counter() - started:.1f}s")
    since = now - timedelta(hours=24)
    full = rebuild_rollups(since=since, until=now + timedelta(hours=1))
    again = rebuild_rollups(since=since, until=now + timedelta(hours=1))
    recent = rollup_recent_hours()
    print(
        f"rollup of {args.rollup_rows:,} receipts over 24 h x 50 places x 6 categories: "
        f"{full.seconds:.2f}s ({full.place_hours:,} place-hours, "
        f"{full.category_hours:,} category-hours); rerun {again.seconds:.2f}s"
    )
    print(f"hourly job (last 3 hours + current): {recent.seconds:.2f}s")
    return min(full.seconds, again.seconds)


if __name__ == "__main__":
    main()
