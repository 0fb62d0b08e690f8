"""SMS backends: console prints, file writes one file per message, http posts to a gateway."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.identity.sms import (
    ConsoleSmsBackend,
    FileSmsBackend,
    HttpSmsBackend,
    SmsDeliveryError,
    get_sms_backend,
)


@pytest.fixture(autouse=True)
def _no_delay(settings):
    settings.SMS_SEND_DELAY_SECONDS = 0


def test_console_backend_prints_phone_and_text(capsys):
    ConsoleSmsBackend().send(phone="+79991234567", text="Your sign-in code: 1234.")

    assert capsys.readouterr().out == "[SMS to +79991234567] Your sign-in code: 1234.\n"


def test_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "out")
    backend = FileSmsBackend()

    backend.send(phone="+79991234567", text="code 1234")
    backend.send(phone="+79991234567", text="code 5678")

    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 2
    assert all(f.name.endswith(".txt") and "79991234567" in f.name for f in files)
    assert {f.read_text() for f in files} == {
        "To: +79991234567\n\ncode 1234\n",
        "To: +79991234567\n\ncode 5678\n",
    }


def test_local_backends_imitate_gateway_latency(settings, tmp_path):
    import time

    settings.SMS_FILE_PATH = str(tmp_path)
    settings.SMS_SEND_DELAY_SECONDS = 0.3
    started = time.monotonic()

    FileSmsBackend().send(phone="+79991234567", text="x")

    assert time.monotonic() - started >= 0.3


class _Gateway:
    """A fake SMS gateway on a free loopback port that records requests."""

    def __init__(self, statuses: list[int]):
        self.requests: list[dict] = []
        statuses = list(statuses)
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append(
                    {"auth": self.headers.get("Authorization"), "json": json.loads(body)}
                )
                self.send_response(statuses.pop(0) if statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(request):
    gw = _Gateway(getattr(request, "param", []))
    yield gw
    gw.close()


def test_http_backend_posts_json_with_the_api_key(settings, gateway):
    settings.SMS_HTTP_URL = gateway.url
    settings.SMS_HTTP_API_KEY = "k-123"

    HttpSmsBackend().send(phone="+79991234567", text="code 1234")

    assert gateway.requests == [
        {"auth": "Bearer k-123", "json": {"to": "+79991234567", "text": "code 1234"}}
    ]


@pytest.mark.parametrize("gateway", [[503]], indirect=True)
def test_http_backend_raises_on_gateway_error(settings, gateway):
    settings.SMS_HTTP_URL = gateway.url

    with pytest.raises(SmsDeliveryError):
        HttpSmsBackend().send(phone="+79991234567", text="x")


def test_http_backend_raises_when_unreachable(settings):
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/"  # discard port: nothing listens

    with pytest.raises(SmsDeliveryError):
        HttpSmsBackend().send(phone="+79991234567", text="x")


def test_http_backend_needs_a_url(settings):
    settings.SMS_HTTP_URL = ""

    with pytest.raises(ImproperlyConfigured):
        HttpSmsBackend().send(phone="+79991234567", text="x")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("console", ConsoleSmsBackend),
        ("file", FileSmsBackend),
        ("http", HttpSmsBackend),
        ("accounts.identity.sms.FileSmsBackend", FileSmsBackend),
    ],
)
def test_backend_is_chosen_by_setting(settings, name, cls):
    settings.SMS_BACKEND = name

    assert type(get_sms_backend()) is cls


def test_unknown_backend_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "carrier-pigeon"

    with pytest.raises(ImproperlyConfigured):
        get_sms_backend()
