"""Sign-in throughput through the whole Django stack (middleware, DRF, Redis throttles, SQL).

Each phone sign-in is POST /api/login/ (code issued, SMS "sent" by an eager Celery task to the
file backend), the code read back from the file, POST /api/verify/ (code checked, user
created, token issued) and GET /api/profile/. Password sign-ins time POST /auth/login/, which
is dominated by the password hasher on purpose. In-process (django.test.Client, no sockets);
the users it creates are deleted at the end.

    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/identity_signin.py --users 200
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="phone sign-ins (default 200)")
    parser.add_argument(
        "--password-logins", type=int, default=30, help="password sign-ins (default 30)"
    )
    parser.add_argument("--threads", type=int, default=2, help="parallel clients (default 2)")
    parser.add_argument(
        "--max-seconds", type=float, default=120, help="stop starting new sign-ins after this"
    )
    return parser.parse_args()


def _configure(sms_dir: str) -> None:
    # Before Django loads settings: eager tasks, file SMS, no imitated delay, no throttling.
    os.environ.update(
        {
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": sms_dir,
            "SMS_SEND_DELAY_SECONDS": "0",
            "THROTTLE_SIGNIN_IP": "1000000/min",
            "THROTTLE_SIGNIN_ACCOUNT": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _summary(name: str, samples: list[float], wall: float) -> str:
    if not samples:
        return f"{name:<22} no samples"
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{name:<22} n={len(ms):<5} {len(ms) / wall:8.1f}/s   "
        f"p50={statistics.median(ms):7.1f} ms  p95={p95:7.1f} ms  max={ms[-1]:7.1f} ms"
    )


def main() -> None:
    args = _args()
    sms_dir = tempfile.mkdtemp(prefix="bench-sms-")
    _configure(sms_dir)

    from django.db import connection
    from django.test import Client

    from accounts.models import SignInCode, User

    prefix = "+7999555"
    phones = [f"{prefix}{i:04d}" for i in range(args.users)]
    User.objects.filter(phone__startswith=prefix).delete()
    SignInCode.objects.filter(destination__startswith=prefix).delete()
    timings: dict[str, list[float]] = {"POST /api/login/": [], "POST /api/verify/": []}
    timings["GET /api/profile/"] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.max_seconds
    failures: list[str] = []

    def timed(key: str, call, *args, **kwargs):
        started = time.perf_counter()
        response = call(*args, **kwargs)
        elapsed = time.perf_counter() - started
        with lock:
            timings[key].append(elapsed)
        return response

    def phone_worker(slot: int) -> None:
        client = Client(SERVER_NAME="localhost", REMOTE_ADDR=f"10.77.0.{slot + 1}")
        try:
            for phone in phones[slot :: args.threads]:
                if time.monotonic() > deadline:
                    return
                r = timed(
                    "POST /api/login/",
                    client.post,
                    "/api/login/",
                    {"phone": phone},
                    content_type="application/json",
                )
                if r.status_code != 200:
                    failures.append(f"login {phone}: {r.status_code}")
                    continue
                [sms] = Path(sms_dir).glob(f"*-{phone.lstrip('+')}-*.txt")
                found = re.search(r"code: (\d{4})", sms.read_text())
                assert found, f"no code in {sms}"
                code = found.group(1)
                r = timed(
                    "POST /api/verify/",
                    client.post,
                    "/api/verify/",
                    {"phone": phone, "token": code},
                    content_type="application/json",
                )
                if r.status_code != 200:
                    failures.append(f"verify {phone}: {r.status_code}")
                    continue
                token = r.json()["token"]
                timed(
                    "GET /api/profile/",
                    client.get,
                    "/api/profile/",
                    HTTP_AUTHORIZATION=f"Token {token}",
                )
        finally:
            connection.close()

    print(f"phone sign-ins: {args.users} users, {args.threads} threads")
    started = time.monotonic()
    threads = [threading.Thread(target=phone_worker, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    for key, samples in timings.items():
        print(_summary(key, samples, wall))
    done = len(timings["POST /api/verify/"])
    print(f"full phone sign-ins   {done / wall:8.1f}/s  ({done} in {wall:.1f} s)")

    timings = {"POST /auth/login/": []}
    user = User(username="bench-password-user")
    user.set_password("bench-password-123456")
    User.objects.filter(username=user.username).delete()
    user.save()
    client = Client(SERVER_NAME="localhost")
    started = time.monotonic()
    for _ in range(args.password_logins):
        if time.monotonic() > deadline:
            break
        r = timed(
            "POST /auth/login/",
            client.post,
            "/auth/login/",
            {"username": user.username, "password": "bench-password-123456"},
            content_type="application/json",
        )
        if r.status_code != 200:
            failures.append(f"password login: {r.status_code}")
    print(_summary("POST /auth/login/", timings["POST /auth/login/"], time.monotonic() - started))

    User.objects.filter(phone__startswith=prefix).delete()
    User.objects.filter(username=user.username).delete()
    SignInCode.objects.filter(destination__startswith=prefix).delete()
    if failures:
        print(f"{len(failures)} failures, first: {failures[:3]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
