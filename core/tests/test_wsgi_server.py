"""Body limits and log redaction under the real WSGI server (gunicorn), as deployed."""

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from core.testing import BASE_DIR, process_env, stop_process, wait_until

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def gunicorn():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    base = f"127.0.0.1:{sock.getsockname()[1]}"
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"fd://{sock.fileno()}",
        "--workers", "1", "--access-logfile", "-",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=process_env(), stdout=out, stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()], start_new_session=True,
        )  # fmt: skip
    sock.close()

    def ready():
        try:
            return httpx.get(f"http://{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            return False

    try:
        wait_until(ready, timeout=30, message="gunicorn did not start")
        yield base, log
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_gunicorn_refuses_a_60_mb_body_with_413_before_reading_it(gunicorn):
    base, _ = gunicorn
    host, port = base.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/transfers/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n[" % (60 * MIB)
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"code": "payload_too_large"' in answer


@pytest.mark.slow
def test_gunicorn_access_log_has_no_token(gunicorn):
    base, log = gunicorn
    httpx.get(f"http://{base}/healthz?token=s3cr3t-value", timeout=5)

    wait_until(lambda: "/healthz?token" in log.read_text(), timeout=5)
    text = log.read_text()
    assert "token=[redacted]" in text
    assert "s3cr3t-value" not in text
