"""Where one hot write's time goes: cProfile of N requests through the WSGI stack, in-process.

Serves POST /api/v1/transfers/ (JWT) and POST /stores/<id> (token) N times each through
Django's WSGI handler (every middleware, DRF, the services, the database) with DEBUG off, and
prints the top functions by own and cumulative time plus the SQL statements of one request.
The HTTP server's own cost (gunicorn) is not in it: bench/transfers.py measures that.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/profile_requests.py
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-use-0123456789")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "localhost,testserver")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--path", choices=["transfer", "stock", "healthz"], default="transfer")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.balances import services
    from accounts.models import User
    from stores.models import Store

    def user(name):
        u, _ = User.objects.get_or_create(username=name)
        account, _ = services.open_account(user=u)
        if account.balance < 1000:
            services.deposit(user=u, account_id=account.pk, amount=Decimal(100000), comment="bench")
        return u, account

    source, source_account = user("profile-a")
    _, target_account = user("profile-b")
    operator, _ = User.objects.get_or_create(username="profile-op", defaults={"is_staff": True})
    Store.objects.get_or_create(store_id="profile")
    client = Client()
    if args.path == "transfer":
        jwt = str(AccessToken.for_user(source))
        body = json.dumps(
            {"from_account": source_account.pk, "to_account": target_account.pk, "amount": "0.01"}
        )
        call = lambda: client.post(  # noqa: E731
            "/api/v1/transfers/", body, "application/json", HTTP_AUTHORIZATION=f"Bearer {jwt}"
        )
    elif args.path == "stock":
        token = Token.objects.get_or_create(user=operator)[0].key
        body = json.dumps({"operation": "supply", "item_id": "x", "quantity": 1})
        call = lambda: client.post(  # noqa: E731
            "/stores/profile", body, "application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )
    else:
        call = lambda: client.get("/healthz")  # noqa: E731
    for _ in range(50):  # warm-up: imports, caches, the connection
        assert call().status_code in (200, 201), call().content
    queries = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    # CPU time, not wall time: on shared cores the waits would swamp the picture.
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(args.requests):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]  # set by pstats; not in typeshed
    per_request = 1000 * total / args.requests
    print(f"{args.path}: {per_request:.3f} ms of CPU in this process per request (profiled)")
    print(f"SQL of one request ({len(queries)}, the SELECT 1 health check not counted):")
    for sql in queries:
        print("   ", sql[:150])
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
