"""Stock under parallel load, through the real HTTP stack, and websocket fan-out.

1. HTTP: gunicorn (config.wsgi) on a free loopback port; N concurrent clients do random
   supply/demand (and some group operations) on a few hot items for a fixed time. Prints ops/s,
   p50/p99 latency, refused demands.
2. Bare SQL: the same number of connections doing the guarded update directly, same time, same
   items; prints its rate and the ratio HTTP / bare.
3. Checks: the final quantities equal the start plus every accepted movement, none negative.
4. Fan-out (needs REDIS_URL): uvicorn (config.asgi) with S websocket subscribers on one store;
   K committed changes, time from commit to the last subscriber receiving it (p50/p99).

Run on a migrated database:
    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/stock.py --help
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STORE_ID = "bench"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def start_server(cmd: list[str], sock: socket.socket, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_http(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not become ready")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


# --- HTTP load (client processes, each with threads) -----------------------------------------
def _client_thread(port, token, items, group_ratio, deadline, seed, out, lock, calibrate):
    rng = random.Random(seed)
    latencies, counts, deltas = [], Counter(), Counter()
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Host": "localhost",
    }
    while time.monotonic() < deadline:
        if calibrate:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz", headers={"Host": "localhost"})
            conn.getresponse().read()
            conn.close()
            latencies.append(time.perf_counter() - started)
            counts["healthz"] += 1
            continue
        operation = rng.choice(["supply", "demand"])
        if rng.random() < group_ratio:
            lines = [(item, rng.randint(1, 3)) for item in rng.sample(items, 3)]
            path = f"/stores/{STORE_ID}/group_op"
            body = {
                "operation": operation,
                "items": [{"item_id": i, "quantity": q} for i, q in lines],
            }
            kind = "group"
        else:
            lines = [(rng.choice(items), rng.randint(1, 5))]
            path = f"/stores/{STORE_ID}"
            body = {"operation": operation, "item_id": lines[0][0], "quantity": lines[0][1]}
            kind = "single"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        finally:
            conn.close()
        latencies.append(time.perf_counter() - started)
        if status == 200:
            counts[f"{kind}_{operation}_ok"] += 1
            sign = 1 if operation == "supply" else -1
            for item, quantity in lines:
                deltas[item] += sign * quantity
        elif status == 409:
            counts[f"{kind}_demand_refused"] += 1
        else:
            counts[f"status_{status}"] += 1
    with lock:
        out.append((latencies, counts, deltas))


def _client_process(port, token, items, group_ratio, deadline_in, threads, seed, queue, calibrate):
    deadline = time.monotonic() + deadline_in
    out, lock = [], threading.Lock()
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(port, token, items, group_ratio, deadline, seed * 1000 + n, out, lock, calibrate),
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies, counts, deltas = [], Counter(), Counter()
    for lat, cnt, dlt in out:
        latencies += lat
        counts.update(cnt)
        deltas.update(dlt)
    queue.put((latencies, dict(counts), dict(deltas)))


def http_load(args, port: int, token: str, items: list[str], calibrate: bool = False) -> dict:
    queue = multiprocessing.Queue()
    duration = args.duration / 2 if calibrate else args.duration
    procs = []
    per_proc = [args.clients // args.client_procs] * args.client_procs
    for n in range(args.clients % args.client_procs):
        per_proc[n] += 1
    started = time.monotonic()
    for n, threads in enumerate(per_proc):
        proc = multiprocessing.Process(
            target=_client_process,
            args=(port, token, items, args.group_ratio, duration, threads, n + 1, queue, calibrate),
        )
        proc.start()
        procs.append(proc)
    results = [queue.get(timeout=args.duration + 120) for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    latencies, counts, deltas = [], Counter(), Counter()
    for lat, cnt, dlt in results:
        latencies += lat
        counts.update(cnt)
        deltas.update(dlt)
    return {"elapsed": elapsed, "latencies": latencies, "counts": counts, "deltas": deltas}


# --- bare guarded SQL -------------------------------------------------------------------------
def bare_sql(args, store_pk: int, items: list[str]) -> float:
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    deadline = time.monotonic() + args.duration
    done = Counter()
    lock = threading.Lock()

    def work(seed):
        rng = random.Random(seed)
        conn = psycopg2.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db["PASSWORD"],
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
        )
        conn.autocommit = True
        cur = conn.cursor()
        n = 0
        while time.monotonic() < deadline:
            quantity = rng.randint(1, 5)
            if rng.random() < 0.5:
                cur.execute(
                    "UPDATE stores_stockitem SET quantity = quantity + %s "
                    "WHERE store_id = %s AND item_id = %s",
                    [quantity, store_pk, rng.choice(items)],
                )
            else:
                cur.execute(
                    "UPDATE stores_stockitem SET quantity = quantity - %s "
                    "WHERE store_id = %s AND item_id = %s AND quantity >= %s",
                    [quantity, store_pk, rng.choice(items), quantity],
                )
            n += 1
        conn.close()
        with lock:
            done["ops"] += n

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done["ops"] / (time.monotonic() - started)


# --- websocket fan-out ------------------------------------------------------------------------
async def fan_out(args, port: int, token: str, store) -> tuple[list[float], list[float]]:
    import websockets
    from asgiref.sync import sync_to_async

    from stores import services

    url = f"ws://127.0.0.1:{port}/ws/stores/{STORE_ID}?token={token}"
    sockets = []
    for _ in range(args.subscribers):
        ws = await websockets.connect(url, open_timeout=30, max_queue=None)
        await ws.recv()  # the report on connect
        sockets.append(ws)

    def change(n: int) -> float:
        started = time.perf_counter()  # just before the transaction: an upper bound
        services.apply_operation(
            store=store, operation="supply", item_id=f"fan-{n % 5}", quantity=1
        )
        return started

    last, every = [], []
    for n in range(args.changes):
        receive = [asyncio.ensure_future(ws.recv()) for ws in sockets]
        received: list[float] = []

        def stamp(_future, received=received):
            received.append(time.perf_counter())

        for future in receive:
            future.add_done_callback(stamp)
        started = await sync_to_async(change, thread_sensitive=False)(n)
        await asyncio.wait_for(asyncio.gather(*receive), timeout=30)
        every += [t - started for t in received]
        last.append(max(received) - started)
        await asyncio.sleep(0.02)
    for ws in sockets:
        await ws.close()
    return last, every


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (16)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes (2)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase (10)")
    parser.add_argument("--items", type=int, default=10, help="hot items (10)")
    parser.add_argument("--group-ratio", type=float, default=0.1, help="share of group ops (0.1)")
    parser.add_argument(
        "--start-quantity", type=int, default=20, help="stock of each hot item at start (20)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--subscribers", type=int, default=100, help="websockets (100)")
    parser.add_argument("--changes", type=int, default=50, help="changes for fan-out (50)")
    parser.add_argument("--skip-fanout", action="store_true", help="only the HTTP/SQL phases")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from stores import services
    from stores.models import StockItem, StockMovement, Store

    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a migrated PostgreSQL database")

    user, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    token = Token.objects.get_or_create(user=user)[0].key
    Store.objects.filter(store_id=STORE_ID).delete()
    store = Store.objects.create(store_id=STORE_ID)
    items = [f"hot-{n}" for n in range(args.items)]
    start_qty = args.start_quantity
    services.apply_group_operation(
        store=store, operation="supply", lines=[(i, start_qty) for i in items], user=user
    )
    # The servers run as in production: DEBUG off (DEBUG makes whitenoise rescan static files
    # on every request and Django keep every query).
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }

    print(
        f"HTTP phase: {args.clients} clients ({args.client_procs} processes), {args.items} hot "
        f"items, {args.group_ratio:.0%} group ops, gunicorn {args.workers} workers, "
        f"{args.duration:.0f}s"
    )
    sock = bound_socket()
    port = sock.getsockname()[1]
    gunicorn = start_server(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"fd://{sock.fileno()}",
         "--workers", str(args.workers), "--log-level", "warning"],
        sock, env,
    )  # fmt: skip
    sock.close()
    try:
        wait_http(port, gunicorn)
        # The ceiling of this stack on this machine: a trivial view, same clients.
        calibration = http_load(args, port, token, items, calibrate=True)
        result = http_load(args, port, token, items)
    finally:
        stop(gunicorn)
    healthz_rate = calibration["counts"]["healthz"] / calibration["elapsed"]
    print(f"  calibration, GET /healthz (no DB): {healthz_rate:,.0f} req/s")
    lat = result["latencies"]
    counts = result["counts"]
    accepted = sum(v for k, v in counts.items() if k.endswith("_ok"))
    refused = sum(v for k, v in counts.items() if k.endswith("_refused"))
    errors = {k: v for k, v in counts.items() if k.startswith("status_")}
    http_rate = (accepted + refused) / result["elapsed"]
    print(f"  requests: {len(lat)}  accepted: {accepted}  refused demands (409): {refused}")
    print(f"  other statuses: {errors or 'none'}   breakdown: {dict(sorted(counts.items()))}")
    print(
        f"  HTTP ops/s: {http_rate:,.0f}   p50 {percentile(lat, 50) * 1000:.1f} ms   "
        f"p99 {percentile(lat, 99) * 1000:.1f} ms"
    )

    final = dict(StockItem.objects.filter(store=store).values_list("item_id", "quantity"))
    expected = {item: start_qty + result["deltas"].get(item, 0) for item in items}
    logged = Counter()
    for item_id, delta in StockMovement.objects.filter(item__store=store).values_list(
        "item__item_id", "delta"
    ):
        logged[item_id] += delta
    failed = not (final == expected == dict(logged)) or min(final.values()) < 0
    print(
        f"  check: final == start + accepted movements: {final == expected}; == movement log: "
        f"{final == dict(logged)}; negative: {sum(q < 0 for q in final.values())}"
    )

    print(f"Bare guarded SQL: {args.clients} connections, {args.duration:.0f}s")
    bare_rate = bare_sql(args, store.pk, items)
    print(f"  bare ops/s: {bare_rate:,.0f}   ratio HTTP/bare: {http_rate / bare_rate:.2f}")

    if args.skip_fanout or not settings.REDIS_URL:
        if not args.skip_fanout:
            print("Fan-out skipped: set REDIS_URL (the channel layer must be shared by processes).")
        Store.objects.filter(store_id=STORE_ID).delete()
        sys.exit(1 if failed else 0)
    print(f"Fan-out: {args.subscribers} websocket subscribers, {args.changes} changes (uvicorn)")
    sock = bound_socket()
    port = sock.getsockname()[1]
    uvicorn = start_server(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--fd", str(sock.fileno()),
         "--lifespan", "off", "--log-level", "warning"],
        sock, {**env, "DB_CONN_MAX_AGE": "0"},
    )  # fmt: skip
    sock.close()
    try:
        wait_http(port, uvicorn)
        last, every = asyncio.run(fan_out(args, port, token, store))
    finally:
        stop(uvicorn)
    print(
        f"  commit -> last subscriber: p50 {percentile(last, 50) * 1000:.1f} ms   "
        f"p99 {percentile(last, 99) * 1000:.1f} ms   (per delivery p50 "
        f"{percentile(every, 50) * 1000:.1f} ms, {len(every)} deliveries)"
    )
    Store.objects.filter(store_id=STORE_ID).delete()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
