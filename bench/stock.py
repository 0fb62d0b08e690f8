"""Stock under parallel load, through the real HTTP stack, and websocket fan-out.

1. HTTP: gunicorn (config.wsgi, gunicorn.conf.py's workers) on a free loopback port; N
   concurrent clients on kept-alive connections do, one round each: `GET /healthz` (the
   reference), random single supply/demand on a few hot items, group operations only, the mix
   (--group-ratio) opening a connection per request (and /healthz likewise), and single
   supply/demand on ONE hot item. Prints ops/s, p50/p99 latency, refused demands and the server
   CPU per request (web workers + PostgreSQL backends, from /proc); the headline is the CPU
   ratio ours / `GET /healthz`.
2. Bare SQL: the same number of connections doing the guarded update directly, same time, on
   the same items and on the one hot item; prints the rates and the ratios HTTP / bare.
3. Checks: the final quantities equal the start plus every accepted movement, none negative.
4. Fan-out (needs REDIS_URL): --asgi-procs uvicorn processes (config.asgi) with S websocket
   subscribers on one store spread over them; K committed changes, time from COMMIT (stamped
   by an on_commit hook that runs before the service's publish) to the last subscriber
   receiving it (p50/p99), the CPU of the servers and of the subscriber processes per delivery.

Run on a migrated database:
    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/stock.py --help
"""

import argparse
import asyncio
import functools
import gc
import json
import multiprocessing
import os
import random
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

STORE_ID = "bench"


from _harness import (  # noqa: E402
    Client,
    ServerCpu,
    percentile,
    round_row,
    start_process,
    stop,
    wait_ready,
)


def bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


# --- HTTP load (client processes, each with threads) -----------------------------------------
def _client_thread(port, token, items, group_ratio, deadline, seed, out, lock, mode):
    rng = random.Random(seed)
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    deltas: Counter[str] = Counter()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    client = Client(port, keep_alive=mode.get("keep_alive", True))
    while time.monotonic() < deadline:
        if mode.get("calibrate"):
            started = time.perf_counter()
            client.request("GET", "/healthz")
            latencies.append(time.perf_counter() - started)
            counts["healthz"] += 1
            continue
        operation = rng.choice(["supply", "demand"])
        if rng.random() < group_ratio:
            lines = [(item, rng.randint(1, 3)) for item in rng.sample(items, 3)]
            path = f"/stores/{STORE_ID}/group_op"
            body: dict[str, Any] = {
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
        status = client.request("POST", path, json.dumps(body), headers)
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
    client.close()
    with lock:
        out.append((latencies, counts, deltas))


def _client_process(port, token, items, group_ratio, deadline_in, threads, seed, queue, mode):
    deadline = time.monotonic() + deadline_in
    out: list[Any] = []
    lock = threading.Lock()
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(port, token, items, group_ratio, deadline, seed * 1000 + n, out, lock, mode),
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    deltas: Counter[str] = Counter()
    for lat, cnt, dlt in out:
        latencies += lat
        counts.update(cnt)
        deltas.update(dlt)
    queue.put((latencies, dict(counts), dict(deltas)))


def http_load(args, port, token, items, cpu, group_ratio, seed, **mode) -> dict:
    queue: multiprocessing.Queue[Any] = multiprocessing.Queue()
    duration = args.duration / 2 if mode.get("calibrate") else args.duration
    procs = []
    per_proc = [args.clients // args.client_procs] * args.client_procs
    for n in range(args.clients % args.client_procs):
        per_proc[n] += 1
    cpu.start()
    started = time.monotonic()
    for n, threads in enumerate(per_proc):
        proc = multiprocessing.Process(
            target=_client_process,
            args=(port, token, items, group_ratio, duration, threads, seed + n, queue, mode),
        )
        proc.start()
        procs.append(proc)
    results = [queue.get(timeout=args.duration + 120) for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    cpu_s = cpu.stop()
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    deltas: Counter[str] = Counter()
    for lat, cnt, dlt in results:
        latencies += lat
        counts.update(cnt)
        deltas.update(dlt)
    served = sum(v for k, v in counts.items() if not k.startswith("status_"))
    return {
        "elapsed": elapsed,
        "latencies": latencies,
        "counts": counts,
        "deltas": deltas,
        "served": served,
        "rate": served / elapsed,
        "cpu_ms": 1000 * cpu_s / served if served else float("nan"),
        "db_ms": 1000 * cpu.db_s / served if served else float("nan"),
    }


# --- bare guarded SQL -------------------------------------------------------------------------
def bare_sql(args, store_pk: int, items: list[str]) -> float:
    """Guarded updates from as many autocommit connections; ops/s."""
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    deadline = time.monotonic() + args.duration
    done: Counter[str] = Counter()
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
def _subscriber_process(ports, token, indexes, changes, barrier, queue) -> None:
    """Hold some of the websockets; per change, the arrival time of the report on each."""
    import websockets

    async def subscribe(n: int):
        url = f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/stores/{STORE_ID}?token={token}"
        ws = await websockets.connect(url, open_timeout=120, max_queue=None)
        await ws.recv()  # the report on connect
        return ws

    async def run() -> tuple[list[list[float]], float]:
        sockets = []
        for first in range(0, len(indexes), 50):  # in batches: the servers authenticate each
            sockets += await asyncio.gather(*(subscribe(n) for n in indexes[first : first + 50]))
        # The subscribers stand in for clients on other machines: their own garbage collector
        # walking 500 sockets must not be counted as the server's delay.
        gc.freeze()
        barrier.wait(timeout=600)  # every subscriber of every process is connected
        cpu_started = time.process_time()
        arrivals = []
        for _ in range(changes):
            received: list[float] = []

            def stamp(_future, received=received):
                received.append(time.perf_counter())

            receive = [asyncio.ensure_future(ws.recv()) for ws in sockets]
            for future in receive:
                future.add_done_callback(stamp)
            await asyncio.wait_for(asyncio.gather(*receive), timeout=120)
            arrivals.append(received)
            barrier.wait(timeout=120)  # the next change comes once all have this one
        cpu_s = time.process_time() - cpu_started
        for ws in sockets:
            await ws.close()
        return arrivals, cpu_s

    queue.put(asyncio.run(run()))


def fan_out(
    args, ports, token: str, store, servers
) -> tuple[list[float], list[float], list[float], float, float]:
    """Subscribers spread over --subscriber-procs client processes (one Python process
    receiving 1,000 websockets is itself a bottleneck); perf_counter is the system's monotonic
    clock, so arrival times compare across processes."""
    from django.db import connections, transaction

    from stores import services

    procs = max(1, min(args.subscriber_procs, args.subscribers))
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(procs + 1), context.Queue()
    connections.close_all()  # no database connection may cross the fork
    workers = [
        context.Process(
            target=_subscriber_process,
            args=(
                ports,
                token,
                list(range(p, args.subscribers, procs)),
                args.changes,
                barrier,
                queue,
            ),
        )  # fmt: skip
        for p in range(procs)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=600)
    cpus = [ServerCpu(server.pid, None) for server in servers]
    for cpu in cpus:
        cpu.start()
    starts, commits = [], []
    for n in range(args.changes):
        time.sleep(0.02)  # the subscribers are listening again
        starts.append(time.perf_counter())
        with transaction.atomic():
            # Runs right after COMMIT, before the service's own callback reads and publishes.
            transaction.on_commit(lambda: commits.append(time.perf_counter()))
            services.apply_operation(
                store=store, operation="supply", item_id=f"fan-{n % 5}", quantity=1
            )
        barrier.wait(timeout=120)
    server_cpu_s = sum(cpu.stop() for cpu in cpus)
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join()
    client_cpu_s = sum(cpu_s for _, cpu_s in results)
    last, every = [], []
    for n, committed in enumerate(commits):
        arrivals = [t for result, _ in results for t in result[n]]
        every += [t - committed for t in arrivals]
        last.append(max(arrivals) - committed)
    writes = [c - s for s, c in zip(starts, commits, strict=True)]
    return last, every, writes, server_cpu_s, client_cpu_s


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
    parser.add_argument(
        "--worker-class", default=None, help="gunicorn worker class (gunicorn.conf.py's)"
    )
    parser.add_argument("--subscribers", type=int, default=100, help="websockets (100)")
    parser.add_argument(
        "--asgi-procs", type=int, default=1, help="uvicorn processes sharing the subscribers (1)"
    )
    parser.add_argument(
        "--subscriber-procs", type=int, default=2, help="client processes holding them (2)"
    )
    parser.add_argument("--changes", type=int, default=50, help="changes for fan-out (50)")
    parser.add_argument(
        "--ws-deflate", action="store_true", help="negotiate permessage-deflate (off, as deployed)"
    )
    parser.add_argument("--skip-fanout", action="store_true", help="only the HTTP/SQL phases")
    parser.add_argument("--skip-http", action="store_true", help="only the fan-out")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from stores import services
    from stores.models import Store

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

    failed = False
    if not args.skip_http:
        failed = http_phase(args, env, token, store, items)
    if args.skip_fanout or not settings.REDIS_URL:
        if not args.skip_fanout:
            print("Fan-out skipped: set REDIS_URL (the channel layer must be shared by processes).")
        Store.objects.filter(store_id=STORE_ID).delete()
        sys.exit(1 if failed else 0)
    print(
        f"Fan-out: {args.subscribers} websocket subscribers over {args.asgi_procs} uvicorn "
        f"process(es), {args.changes} changes"
    )
    servers, ports = [], []
    for _ in range(args.asgi_procs):
        sock = bound_socket()
        ports.append(sock.getsockname()[1])
        servers.append(
            start_process(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--fd",
                    str(sock.fileno()),
                    "--lifespan",
                    "off",
                    "--log-level",
                    "warning",
                    "--ws-per-message-deflate",
                    "true" if args.ws_deflate else "false",
                ],
                {**env, "DB_CONN_MAX_AGE": "0"},
                pass_fds=[sock.fileno()],
            )  # fmt: skip
        )
        sock.close()
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_ready(port, server, timeout=30)
        last, every, writes, server_cpu_s, client_cpu_s = fan_out(
            args, ports, token, store, servers
        )
    finally:
        for server in servers:
            stop(server)
    print(
        f"  commit -> last subscriber: p50 {percentile(last, 50) * 1000:.1f} ms   "
        f"p99 {percentile(last, 99) * 1000:.1f} ms   (per delivery p50 "
        f"{percentile(every, 50) * 1000:.1f} ms, {len(every)} deliveries)"
    )
    print(
        f"  the change's transaction before that (not counted): p50 "
        f"{percentile(writes, 50) * 1000:.1f} ms   p99 {percentile(writes, 99) * 1000:.1f} ms"
    )
    print(
        f"  ASGI servers' CPU: {1000 * server_cpu_s / args.changes:.1f} ms per change, "
        f"{1e6 * server_cpu_s / max(1, len(every)):.0f} us per delivery (all processes); "
        f"subscriber processes' CPU: {1e6 * client_cpu_s / max(1, len(every)):.0f} us per delivery"
    )
    Store.objects.filter(store_id=STORE_ID).delete()
    sys.exit(1 if failed else 0)


def http_phase(args, env: dict, token: str, store, items: list[str]) -> bool:
    """The HTTP rounds, the stock check and the bare SQL; True if the stock does not add up."""
    from django.conf import settings

    from stores.models import StockItem, StockMovement

    print(
        f"HTTP phase: {args.clients} clients ({args.client_procs} processes), {args.items} hot "
        f"items, gunicorn {args.workers} workers, {args.duration:.0f}s per round"
    )
    sock = bound_socket()
    port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"fd://{sock.fileno()}",
           "--workers", str(args.workers), "--log-level", "warning"]  # fmt: skip
    if args.worker_class:
        cmd += ["--worker-class", args.worker_class]
    gunicorn = start_process(cmd, env, pass_fds=[sock.fileno()])
    sock.close()
    cpu = ServerCpu(gunicorn.pid, settings.DATABASES["default"]["NAME"])
    rounds = {}
    try:
        wait_ready(port, gunicorn, timeout=30)
        load = functools.partial(http_load, args, port, token)
        warm_up = load(items, cpu, args.group_ratio, 90)  # imports, connections
        rounds["GET /healthz (reference)"] = load(items, cpu, 0, 10, calibrate=True)
        rounds["single supply/demand"] = load(items, cpu, 0.0, 20)
        rounds["group operations (3 lines)"] = load(items, cpu, 1.0, 30)
        rounds[f"mix ({args.group_ratio:.0%} group), no keep-alive"] = load(
            items, cpu, args.group_ratio, 40, keep_alive=False
        )
        rounds["GET /healthz, no keep-alive"] = load(
            items, cpu, 0, 50, calibrate=True, keep_alive=False
        )
        rounds["single, ONE hot item"] = load(items[:1], cpu, 0.0, 60)
    finally:
        stop(gunicorn)
    deltas: Counter[str] = Counter(warm_up["deltas"])
    errors: Counter[str] = Counter()
    for name, r in rounds.items():
        lat, counts = r["latencies"], r["counts"]
        deltas.update(r["deltas"])
        errors.update({k: v for k, v in counts.items() if k.startswith("status_")})
        refused = sum(v for k, v in counts.items() if k.endswith("_refused"))
        p50_ms, p99_ms = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
        row = round_row(name, r["rate"], p50_ms, p99_ms, r["cpu_ms"], r["db_ms"])
        print(f"  {row}   (409: {refused})")
    print(f"  other statuses: {dict(errors) or 'none'}")
    ref = rounds["GET /healthz (reference)"]["cpu_ms"]
    ref_closing = rounds["GET /healthz, no keep-alive"]["cpu_ms"]
    mix = rounds[f"mix ({args.group_ratio:.0%} group), no keep-alive"]["cpu_ms"]
    print(
        f"  HEADLINE server CPU per request / GET /healthz: single "
        f"{rounds['single supply/demand']['cpu_ms'] / ref:.2f}, group "
        f"{rounds['group operations (3 lines)']['cpu_ms'] / ref:.2f} (goal <= 3); mix without "
        f"keep-alive {mix / ref_closing:.2f}"
    )

    start_qty = args.start_quantity
    final = dict(StockItem.objects.filter(store=store).values_list("item_id", "quantity"))
    expected = {item: start_qty + deltas.get(item, 0) for item in items}
    logged: Counter[str] = Counter()
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
    bare_hot = bare_sql(args, store.pk, items[:1])
    single = rounds["single supply/demand"]["rate"]
    hot = rounds["single, ONE hot item"]["rate"]
    print(f"  bare ops/s: {bare_rate:,.0f}   ratio HTTP single/bare: {single / bare_rate:.2f}")
    print(
        f"  bare ops/s on ONE hot item: {bare_hot:,.0f}   ratio HTTP/bare on the hot item: "
        f"{hot / bare_hot:.2f} (goal >= 0.5)"
    )
    return failed


if __name__ == "__main__":
    main()
