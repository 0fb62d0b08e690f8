"""Metrics and logs as production runs them: gunicorn with two workers, a real Celery worker.

One request enqueues a task: its id shows in the web's and the worker's JSON log lines, and
/metrics (any gunicorn worker) shows the HTTP series of both workers and the finished task.
"""

import json
import re
import socket
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.testing import BASE_DIR, celery_worker, process_env, stop_process, wait_until
from stores.tests.test_asgi_server import asgi_server  # noqa: F401 (a fixture)

TOKEN = "process-metrics-token-9d2c"
JSON_LOGS = {
    "LOG_FORMAT": "json",
    "METRICS_TOKEN": TOKEN,
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def json_lines(path: Path) -> list[dict]:
    """Every log line of the file, parsed; a line that is not one JSON object fails the test."""
    lines = []
    for line in path.read_text().splitlines():
        if line.strip():
            lines.append(json.loads(line))
    return lines


def worker_json_lines(path: Path) -> list[dict]:
    """The worker's log lines after the start-up banner that celery prints to stdout."""
    text = path.read_text()
    start = text.index("\n{")  # the first log record follows the banner
    return [json.loads(line) for line in text[start:].splitlines() if line.strip()]


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with 2 workers sharing a PROMETHEUS_MULTIPROC_DIR, on a free loopback port."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    # A previous run's file (gunicorn.conf.py removes it at start; left, it breaks the sums).
    (multiproc / "counter_1.db").write_bytes(b"stale")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"fd://{sock.fileno()}",
        "--workers", "2", "--log-level", "warning",
    ]  # fmt: skip
    env = process_env(PROMETHEUS_MULTIPROC_DIR=str(multiproc), **JSON_LOGS)
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()], start_new_session=True,
        )  # fmt: skip
    sock.close()
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            return False

    try:
        wait_until(ready, timeout=60, message="gunicorn did not start")
        assert not (multiproc / "counter_1.db").exists()
        proc.base, proc.log_path, proc.multiproc = base, log, multiproc
        yield proc
    finally:
        stop_process(proc)


def scrape(base: str) -> dict[tuple, float]:
    response = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(page: dict, name: str, **labels) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


SEND = {"task": "accounts.send_signin_code", "state": "SUCCESS"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_request_id_and_metrics_across_gunicorn_workers_and_the_celery_worker(gunicorn):
    base = gunicorn.base
    assert httpx.get(f"{base}/metrics").status_code == 401
    before = scrape(base)
    request_id = f"it-{uuid.uuid4().hex}"
    with celery_worker(**JSON_LOGS) as worker:
        response = httpx.post(
            f"{base}/api/v1/auth/email/",
            json={"email": f"obs-{uuid.uuid4().hex[:8]}@example.com"},
            headers={"X-Request-ID": request_id},
        )
        assert response.status_code == 200, response.text
        assert response.headers["X-Request-ID"] == request_id

        def task_line():
            return [
                line
                for line in worker_json_lines(worker.log_path)
                if line.get("request_id") == request_id
            ]

        carried = wait_until(task_line, timeout=60, message="no worker line with the id")
        assert carried[0]["task_name"] == "accounts.send_signin_code"
        lines = worker_json_lines(worker.log_path)
        assert all(line["level"] for line in lines)
        # Celery's records hold the task's arguments (here the sign-in code): never printed.
        received = [line for line in lines if line["message"].endswith("] received")]
        assert received
        assert all("args" not in line.get("data", {}) for line in received)
        assert all("kwargs" not in line.get("data", {}) for line in lines)
        wait_until(
            lambda: (
                value(scrape(base), "celery_tasks_total", **SEND)
                > value(before, "celery_tasks_total", **SEND)
            ),
            timeout=30,
            message="the finished task did not reach /metrics",
        )

    # A request the web logs about (Django's "Not Found"): the line carries its id.
    missing_id = f"nf-{uuid.uuid4().hex}"
    assert httpx.get(f"{base}/nowhere", headers={"X-Request-ID": missing_id}).status_code == 404
    web = wait_until(
        lambda: [
            line for line in json_lines(gunicorn.log_path) if line.get("request_id") == missing_id
        ],
        timeout=10,
    )
    assert web[0]["logger"] == "django.request"
    assert "Not Found" in web[0]["message"]
    generated = httpx.get(f"{base}/healthz").headers["X-Request-ID"]
    assert uuid.UUID(generated).version == 4

    # Concurrent requests land on both gunicorn workers; every scrape counts all of them.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: httpx.get(f"{base}/readyz").status_code, range(40)))
    assert statuses == [200] * 40
    pids = {re.search(r"_(\d+)\.db$", p.name).group(1) for p in gunicorn.multiproc.glob("*.db")}
    assert len(pids) >= 2, pids
    ready = {"status": "200", "view": "readyz", "method": "GET"}
    name = "django_http_responses_total_by_status_view_method_total"
    for _ in range(4):
        page = scrape(base)
        assert value(page, name, **ready) - value(before, name, **ready) == 40
        assert value(page, "django_http_requests_latency_seconds_by_view_method_count",
                     view="readyz", method="GET") >= 40  # fmt: skip
        assert value(page, "django_db_execute_total", alias="default", vendor="postgresql") > 0
    assert value(page, "celery_task_duration_seconds_count", task=SEND["task"]) >= 1
    assert ("celery_queue_length", frozenset({"queue": "receipts"}.items())) in page
    assert ("rent_runs_in_progress", frozenset({"status": "PENDING"}.items())) in page
    assert ("receipts_waiting_to_be_counted", frozenset()) in page


@pytest.mark.slow
def test_the_asgi_server_echoes_request_ids_too(asgi_server):  # noqa: F811 (the fixture)
    """uvicorn (make run, the ws process) runs the same middleware in Django's async stack."""
    response = httpx.get(f"http://{asgi_server}/healthz", headers={"X-Request-ID": "asgi-42"})
    assert response.headers["X-Request-ID"] == "asgi-42"
    hostile = httpx.get(f"http://{asgi_server}/healthz", headers={"X-Request-ID": "a\tb"})
    assert uuid.UUID(hostile.headers["X-Request-ID"]).version == 4
