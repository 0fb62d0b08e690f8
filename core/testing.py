"""Test helpers that start real processes against the test database and Redis."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def test_database_url() -> str:
    """A DATABASE_URL pointing at the database the running tests use (the test_ one)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def wait_for_log(path: Path, marker: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"process did not become ready:\n{path.read_text(errors='replace')}")


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def celery_worker(queues: str = "celery,receipts", concurrency: int = 1, purge: bool = True, **env):
    """Run a real `celery worker` process on the test database; yields the Popen object.

    The tests must use committed data (`transactional_db`), as the worker has its own
    connection. Stale messages from earlier runs are purged first unless `purge=False`.
    """
    from config.celery import app

    if purge:
        app.control.purge()
    log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    cmd = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues,
        "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", name,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=process_env(**env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_log(log, " ready.", proc)
        proc.log_path = log
        yield proc
    finally:
        stop_process(proc)


def wait_until(predicate, timeout: float = 30, interval: float = 0.1, message: str = ""):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


def token_client(user):
    """An API client signed in with the user's DRF token (created if missing)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def asgi_server(**env):
    """Run the product's ASGI server (uvicorn) on a free port of 127.0.0.1 against the test
    database; yields (base URL, log path). Use committed data (`transactional_db`)."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])
    env = {"DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost", **env}
    cmd = [
        sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--lifespan", "off", "--no-access-log",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=process_env(**env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_log(log, "Uvicorn running", proc)
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop_process(proc)
