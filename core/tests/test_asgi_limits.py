"""Body limits under the real ASGI server: a huge body is refused before it is read."""

import json
import socket
import time

import pytest

from core.testing import uvicorn_server

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    # The requests here never reach the database.
    with uvicorn_server("--log-level", "warning") as (base, _log):
        yield base


def _raw_request(base: str, head: bytes, body_parts, timeout: float = 10) -> tuple[bytes, float]:
    """Send `head`, then body parts while the server lets us; return (answer, seconds)."""
    host, port = base.split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head)
        sock.settimeout(0.05)
        answer = b""
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if answer:
                break
        sock.settimeout(timeout)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # closed with our unread body in its buffer
                break
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


@pytest.mark.slow
def test_60_mb_content_length_is_refused_with_413_before_the_body_is_sent(server):
    head = (
        b"POST /api/checks/bulk/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(60 * MIB).encode() + b"\r\n\r\n"
    )
    # Only the first MiB is ever offered: the old server waited for all 60 before answering.
    answer, seconds = _raw_request(server, head, [b"[" + b" " * (64 * 1024)] * 16)

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["code"] == "payload_too_large"
    assert seconds < 5


@pytest.mark.slow
def test_chunked_body_is_cut_off_once_past_the_limit(server):
    head = (
        b"POST /auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * (256 * 1024)
    part = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # 8 MiB offered in 32 chunks; the limit (1 MiB) is passed after 5.
    answer, seconds = _raw_request(server, head, [part] * 32)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"payload_too_large" in answer
    assert seconds < 5


@pytest.mark.slow
def test_a_body_within_the_limit_still_reaches_the_view(server):
    body = b'{"ok": true}'
    head = (
        b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    answer, _ = _raw_request(server, head + body, [])

    # Django's own answer (CSRF refuses the anonymous POST), not the size limit's.
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
