"""Test helpers that start real processes against the test database and Redis."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    from rest_framework.test import APIClient
    from selenium.webdriver import Chrome

BASE_DIR = Path(settings.BASE_DIR)
T = TypeVar("T")


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


def wait_for_log(
    path: Path, marker: str, proc: subprocess.Popen[bytes], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"process did not become ready:\n{path.read_text(errors='replace')}")


def stop_process(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
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
def celery_worker(
    queues: str = "celery,receipts", concurrency: int = 1, purge: bool = True, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
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
        proc.log_path = log  # type: ignore[attr-defined]  # the tests read the worker's log
        yield proc
    finally:
        stop_process(proc)


def wait_until(
    predicate: Callable[[], T], timeout: float = 30, interval: float = 0.1, message: str = ""
) -> T:
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


def token_client(user: Any) -> "APIClient":
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
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def asgi_server(**env: str) -> Iterator[tuple[str, Path]]:
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


@contextlib.contextmanager
def uvicorn_server(*args: str, **env: str) -> Iterator[tuple[str, Path]]:
    """A real uvicorn serving config.asgi on a free loopback port; yields (host:port, log path).

    Extra `args` go to uvicorn (e.g. "--access-log"); `env` to the process.
    """
    import socket

    import httpx

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--fd", str(sock.fileno()), "--lifespan", "off", *args,
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=process_env(DB_CONN_MAX_AGE="0", **env), stdout=out,
            stderr=subprocess.STDOUT, pass_fds=[sock.fileno()], start_new_session=True,
        )  # fmt: skip
    sock.close()
    base = f"127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"http://{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            return False

    try:
        wait_until(ready, timeout=30, message="uvicorn did not start")
        yield base, log
    finally:
        stop_process(proc)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@contextlib.contextmanager
def headless_chromium(
    language: str = "en", width: int = 1280, height: int = 900
) -> Iterator["Chrome"]:
    """A selenium driver for Debian's headless Chromium sending `Accept-Language: language`.

    The browser and its driver are the system packages (scripts/ensure-browser.sh installs
    them); selenium-manager is kept offline so that nothing is downloaded.
    """
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", f"--lang={language}",
        f"--window-size={width},{height}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
