"""Transfers per second through the real HTTP stack, against the bare SQL of one transfer.

Starts gunicorn (gunicorn.conf.py's workers, JWT auth) on a free loopback port, lets N client
processes POST random transfers between 1,000 accounts for a fixed time over kept-alive
connections (and once more opening a connection per request), `GET /healthz` the same way, and
a round where every transfer debits one hot account; then runs the bare SQL of a transfer (two
guarded updates in id order + a ledger insert) from a pool of the same size against the same
PostgreSQL, random and on the hot account. Each HTTP round prints the server CPU per request
(web workers + PostgreSQL backends, from /proc); the headline is ours / `GET /healthz`.
Finally checks that the sum of all balances equals deposits - withdrawals - purchases and that
no balance is negative.

    DEBUG=true DATABASE_URL=postgres://... REDIS_URL=redis://... \
        .venv/bin/python bench/transfers.py --clients 16 --duration 15

Bench users are named bench-0000...; they and their movements stay (the ledger is append-only)
and are reused by the next run.
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The JWTs minted here must verify in gunicorn: both sides sign with the same key.
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-use-0123456789")

from _harness import Client, ServerCpu, percentile, round_row, start_process, stop  # noqa: E402

START_BALANCE = Decimal("1000.00")
HOT_BALANCE = Decimal("100000000.00")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (and pool)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per round")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--worker-class", default=None, help="gunicorn worker class (gunicorn.conf.py's)"
    )
    parser.add_argument("--skip-hot", action="store_true", help="skip the hot-account round")
    return parser.parse_args()


# --- setup (in this process, through the services so the ledger stays exact) ---------------


def prepare_accounts(count: int) -> tuple[list[dict], dict]:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.balances import services
    from accounts.models import Account, User

    def ensure(username: str, funds: Decimal) -> dict:
        user, _ = User.objects.get_or_create(username=username)
        account, _ = services.open_account(user=user)
        if account.balance < funds / 2:
            services.deposit(
                user=user, account_id=account.pk, amount=funds - account.balance, comment="bench"
            )
        return {"id": account.pk, "token": str(AccessToken.for_user(user))}

    accounts = [ensure(f"bench-{i:04d}", START_BALANCE) for i in range(count)]
    hot = ensure("bench-hot", HOT_BALANCE)
    assert Account.objects.filter(user__username__startswith="bench-").count() >= count + 1
    return accounts, hot


# --- the HTTP round ------------------------------------------------------------------------


def start_gunicorn(workers: int, worker_class) -> tuple[subprocess.Popen, int, Path]:
    log = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", "127.0.0.1:0",
        "--workers", str(workers), "--backlog", "2048", "--log-level", "info",
    ]  # fmt: skip
    if worker_class:
        cmd += ["--worker-class", worker_class]
    proc = start_process(cmd, env, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if port and text.count("Booting worker") >= workers:
            return proc, int(port.group(1)), log
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()}")


def http_client(args) -> tuple[list[float], int, int]:
    port, accounts, hot, duration, seed, keep_alive = args
    rng = random.Random(seed)
    client = Client(port, keep_alive=keep_alive)
    latencies, refused, errors = [], 0, 0
    stop_at = time.monotonic() + duration
    while time.monotonic() < stop_at:
        target = rng.choice(accounts)
        source = hot if isinstance(hot, dict) else rng.choice(accounts)
        if source["id"] == target["id"]:
            continue
        body = json.dumps(
            {
                "from_account": source["id"],
                "to_account": target["id"],
                "amount": f"{rng.randint(1, 1000) / 100:.2f}",
            }
        )
        started = time.perf_counter()
        if hot == "healthz":
            status = client.request("GET", "/healthz")
        else:
            headers = {
                "Authorization": f"Bearer {source['token']}",
                "Content-Type": "application/json",
            }
            status = client.request("POST", "/api/v1/transfers/", body, headers)
        if status in (200, 201):
            latencies.append(time.perf_counter() - started)
        elif status == 402:
            refused += 1
        else:
            errors += 1
    client.close()
    return latencies, refused, errors


def http_round(port, accounts, hot, clients, duration, cpu=None, keep_alive=True) -> dict:
    jobs = [(port, accounts, hot, duration, seed, keep_alive) for seed in range(clients)]
    if cpu:
        cpu.start()
    started = time.monotonic()
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(http_client, jobs)
    elapsed = time.monotonic() - started
    cpu_s = cpu.stop() if cpu else None
    latencies = [lat for lats, _, _ in results for lat in lats]
    served = len(latencies) + sum(r for _, r, _ in results)
    return {
        "ok": len(latencies),
        "refused": sum(r for _, r, _ in results),
        "errors": sum(e for _, _, e in results),
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
        "cpu_ms": 1000 * cpu_s / served if cpu_s is not None and served else float("nan"),
        "db_ms": 1000 * cpu.db_s / served if cpu and served else float("nan"),
    }


# --- the bare SQL round ----------------------------------------------------------------------


def sql_client(args) -> int:
    import psycopg2

    dsn, ids, duration, seed, hot_id = args
    rng = random.Random(seed)
    conn = psycopg2.connect(dsn)
    cursor = conn.cursor()
    done = 0
    stop_at = time.monotonic() + duration
    while time.monotonic() < stop_at:
        source, target = rng.sample(ids, 2)
        if hot_id is not None:
            source = hot_id
        amount = Decimal(rng.randint(1, 1000)) / 100
        debit = (
            "UPDATE accounts_account SET balance = balance - %s WHERE id = %s AND balance >= %s",
            [amount, source, amount],
        )
        credit = (
            "UPDATE accounts_account SET balance = balance + %s WHERE id = %s",
            [amount, target],
        )
        ok = True
        for sql, params in sorted([debit, credit], key=lambda statement: statement[1][1]):
            cursor.execute(sql, params)
            ok = ok and cursor.rowcount == 1
        if ok:
            cursor.execute(
                "INSERT INTO accounts_movement (kind, debit_account_id, credit_account_id, amount,"
                " comment, created_at) VALUES ('transfer', %s, %s, %s, 'bench bare SQL', now())",
                [source, target, amount],
            )
            conn.commit()
            done += 1
        else:
            conn.rollback()
    conn.close()
    return done


def sql_round(accounts, clients, duration, hot_id=None) -> dict:
    from core.testing import test_database_url

    dsn = test_database_url()  # the database Django is configured with (name as given)
    ids = [a["id"] for a in accounts]
    started = time.monotonic()
    with multiprocessing.Pool(clients) as pool:
        done = sum(pool.map(sql_client, [(dsn, ids, duration, s, hot_id) for s in range(clients)]))
    return {"ok": done, "rate": done / (time.monotonic() - started)}


# --- the invariant ---------------------------------------------------------------------------


def check_invariant() -> dict:
    from django.db.models import Min, Q, Sum

    from accounts.balances.selectors import ledger_discrepancies
    from accounts.models import Account, Movement

    balances = Account.objects.aggregate(total=Sum("balance"), lowest=Min("balance"))

    def total(condition) -> Decimal:
        return Movement.objects.filter(condition).aggregate(s=Sum("amount"))["s"] or Decimal(0)

    deposits = total(Q(kind="deposit"))
    outflows = total(Q(kind__in=["withdrawal", "purchase"]))
    return {
        "sum_of_balances": balances["total"],
        "deposits_minus_withdrawals": deposits - outflows,
        "exact": balances["total"] == deposits - outflows,
        "lowest_balance": balances["lowest"],
        "discrepancies": len(ledger_discrepancies()),
    }


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    print(f"preparing {args.accounts} accounts ...", flush=True)
    accounts, hot = prepare_accounts(args.accounts)
    connections.close_all()  # no connection may cross the fork into the pools
    proc, port, log = start_gunicorn(args.workers, args.worker_class)
    cpu = ServerCpu(proc.pid, settings.DATABASES["default"]["NAME"])
    try:
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}", flush=True)
        http_round(port, accounts, None, args.clients, 2)  # warm-up: imports, connections
        d = args.duration
        random_round = http_round(port, accounts, None, args.clients, d, cpu)
        trivial = http_round(port, accounts, "healthz", args.clients, d / 2, cpu)
        closing = http_round(port, accounts, None, args.clients, d / 2, cpu, keep_alive=False)
        trivial_closing = http_round(
            port, accounts, "healthz", args.clients, d / 2, cpu, keep_alive=False
        )
        hot_round = None
        if not args.skip_hot:
            hot_round = http_round(port, accounts, hot, args.clients, d, cpu)
    finally:
        stop(proc, timeout=30)
        log.unlink(missing_ok=True)
    bare = sql_round(accounts, args.clients, args.duration)
    bare_hot = None
    if not args.skip_hot:
        bare_hot = sql_round(accounts, args.clients, args.duration, hot_id=hot["id"])
    invariant = check_invariant()

    def line(name, r):
        row = round_row(name, r["rate"], r["p50_ms"], r["p99_ms"], r["cpu_ms"], r["db_ms"])
        return f"{row}   ({r['ok']} ok, {r['refused']} refused 402, {r['errors']} errors)"

    print(f"\n{args.clients} clients, {args.accounts} accounts, {args.duration:.0f} s per round")
    print(line("HTTP random transfers", random_round))
    print(line("(reference: GET /healthz)", trivial))
    print(line("HTTP random, no keep-alive", closing))
    print(line("(GET /healthz, no keep-alive)", trivial_closing))
    if hot_round:
        print(line("HTTP, one hot debit account", hot_round))
    print(f"{'bare SQL, same pool size':<34} {bare['rate']:8.0f} /s   ({bare['ok']} ok)")
    if bare_hot:
        print(f"{'bare SQL, one hot debit account':<34} {bare_hot['rate']:8.0f} /s")
    print(
        f"HEADLINE server CPU per request, transfer / GET /healthz: "
        f"{random_round['cpu_ms'] / trivial['cpu_ms']:.2f} (goal <= 3); without keep-alive "
        f"{closing['cpu_ms'] / trivial_closing['cpu_ms']:.2f}"
    )
    print(f"ratio ours / bare SQL (random)  {random_round['rate'] / bare['rate']:8.3f}")
    if hot_round and bare_hot:
        print(
            f"ratio ours / bare SQL (hot row) {hot_round['rate'] / bare_hot['rate']:8.3f}"
            " (goal >= 0.5)"
        )
    print(
        f"invariant: sum of balances {invariant['sum_of_balances']} == deposits - withdrawals "
        f"{invariant['deposits_minus_withdrawals']}: {invariant['exact']}; lowest balance "
        f"{invariant['lowest_balance']}; accounts disagreeing with the ledger: "
        f"{invariant['discrepancies']}"
    )
    if not invariant["exact"] or invariant["lowest_balance"] < 0 or invariant["discrepancies"]:
        raise SystemExit("INVARIANT BROKEN")


if __name__ == "__main__":
    main()
