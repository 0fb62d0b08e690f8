"""Pluggable SMS backends, chosen by the SMS_BACKEND setting: console, file or http."""

import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsDeliveryError(Exception):
    """The message was not accepted; the sending task retries it."""


class BaseSmsBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class _SimulatedDelayMixin:
    """Local backends imitate a gateway's 1-2 s latency, off the request path."""

    def _simulate_latency(self) -> None:
        delay = settings.SMS_SEND_DELAY_SECONDS
        if delay > 0:
            time.sleep(delay)


class ConsoleSmsBackend(_SimulatedDelayMixin, BaseSmsBackend):
    """Prints each message to the process's standard output (the worker's, under `make run`)."""

    def send(self, *, phone: str, text: str) -> None:
        self._simulate_latency()
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class FileSmsBackend(_SimulatedDelayMixin, BaseSmsBackend):
    """Writes one file per message into SMS_FILE_PATH, for tests and demos."""

    def send(self, *, phone: str, text: str) -> None:
        self._simulate_latency()
        directory = Path(settings.SMS_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{phone.lstrip('+')}-{uuid.uuid4().hex[:8]}.txt"
        # Write under a temporary name, then rename: a reader never sees half a message.
        tmp = directory / f".{name}.tmp"
        tmp.write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")
        tmp.rename(directory / name)


class HttpSmsBackend(BaseSmsBackend):
    """A JSON HTTP gateway: POST SMS_HTTP_URL {"to", "text"} with `Authorization: Bearer <key>`.

    Any 2xx answer counts as accepted; anything else (or a network error) raises
    SmsDeliveryError so that the task retries.
    """

    timeout = 10.0

    def send(self, *, phone: str, text: str) -> None:
        if not settings.SMS_HTTP_URL:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL.")
        headers = {}
        if settings.SMS_HTTP_API_KEY:
            headers["Authorization"] = f"Bearer {settings.SMS_HTTP_API_KEY}"
        try:
            response = httpx.post(
                settings.SMS_HTTP_URL,
                json={"to": phone, "text": text},
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise SmsDeliveryError(f"SMS gateway unreachable: {exc}") from exc
        if not response.is_success:
            raise SmsDeliveryError(f"SMS gateway answered {response.status_code}")


BACKENDS: dict[str, type[BaseSmsBackend]] = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "http": HttpSmsBackend,
}


def get_sms_backend(name: str | None = None) -> BaseSmsBackend:
    """The configured backend: a short name from BACKENDS or a dotted path to a class."""
    name = name or settings.SMS_BACKEND
    if name in BACKENDS:
        return BACKENDS[name]()
    if "." in name:
        return import_string(name)()
    raise ImproperlyConfigured(
        f"Unknown SMS_BACKEND {name!r}; use one of {', '.join(BACKENDS)} or a dotted path."
    )
