"""Request ids: one per request, in every log line, carried into the Celery tasks it enqueues.

The id comes from the caller's `X-Request-ID` when it is sane (a proxy or client may already
have one), else a new uuid4. It lives in a context variable, so it follows the request through
threads and async code without being passed around; a logging filter writes it into each
record. Imported by the logging configuration: no Django models here.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from django.http import HttpRequest, HttpResponseBase

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"  # the Celery message header that carries it to the worker
# Letters, digits and . _ : - only, at most 128: nothing that could forge a log line or header.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_var: ContextVar[tuple[str | None, str | None] | None] = ContextVar("task", default=None)


def sane_request_id(value: object) -> str | None:
    if isinstance(value, str) and _SANE_ID.fullmatch(value):
        return value
    return None


# Celery attaches a task's arguments to its "received" / "succeeded" records as `data`; the JSON
# format would print them, and they can be secrets (a sign-in code is one).
_HIDDEN_TASK_DATA = ("args", "kwargs")


class LogContextFilter(logging.Filter):
    """Adds request_id (and, in a worker, task_name / task_id) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        task = task_var.get()
        record.task_name, record.task_id = task if task else (None, None)
        data = getattr(record, "data", None)
        if isinstance(data, dict) and any(key in data for key in _HIDDEN_TASK_DATA):
            # a copy: the same dict fills the message's %(name)s placeholders
            record.data = {k: v for k, v in data.items() if k not in _HIDDEN_TASK_DATA}
        return True


class RequestIdMiddleware:
    """Gives the request its id for the time of the request and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = sane_request_id(request.META.get("HTTP_X_REQUEST_ID")) or str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]  # our own request attribute
        # Not reset on the way out: Django logs the response ("Not Found: ...") after the
        # middleware chain. The next request sets its own; request_finished clears it.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def clear_request_id(**kwargs: object) -> None:
    """request_finished (the response is sent): later lines of this thread carry no id."""
    request_id_var.set(None)


def configure_logging(logging_settings: dict[str, Any]) -> None:
    """LOGGING_CONFIG: the dictConfig, plus Python warnings as log records (JSON too)."""
    import logging.config

    logging.config.dictConfig(logging_settings)
    logging.captureWarnings(True)


# --- Celery: the id travels as a message header; the worker restores it around the task. ------
_TaskTokens = tuple[Token[str | None], Token[tuple[str | None, str | None] | None]]
_task_tokens: dict[str | None, _TaskTokens] = {}


def add_request_id_header(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    """before_task_publish: stamp the enqueued task with the current request id."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def restore_request_id(task_id: str | None = None, task: Any = None, **kwargs: object) -> None:
    """task_prerun: the enqueuing request's id (an eager task keeps the caller's)."""
    sent = sane_request_id(getattr(task.request, TASK_HEADER, None)) if task else None
    _task_tokens[task_id] = (
        request_id_var.set(sent or request_id_var.get()),
        task_var.set((getattr(task, "name", None), task_id)),
    )


def forget_request_id(task_id: str | None = None, **kwargs: object) -> None:
    """task_postrun: back to the worker's own context."""
    tokens = _task_tokens.pop(task_id, None)
    if tokens:
        task_var.reset(tokens[1])
        request_id_var.reset(tokens[0])


def configure_worker_logging(loglevel: str | int | None = None, **kwargs: object) -> None:
    """setup_logging: worker and beat log through the project's LOGGING (plain or JSON)."""
    from django.conf import settings

    configure_logging(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


# --- Secrets out of logs: `token=...` (and similar) in a logged URL becomes `[redacted]`. -----
# On the web servers' own loggers (uvicorn, gunicorn) by CoreConfig.ready(), and on the console
# handler through settings.LOGGING.

SECRET_PARAMETERS = re.compile(
    r"(?P<name>(?:^|(?<=[?&;\s\"']))(?:token|access_token|refresh_token|key|code|password)=)"
    r"[^&;\s\"']+",
    re.IGNORECASE,
)
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    return SECRET_PARAMETERS.sub(r"\g<name>[redacted]", text) if "=" in text else text


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Redacts the message and its arguments in place; the servers' formatters read `args`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


def install_secret_redaction() -> None:
    """On the web servers' own loggers: their access lines hold the full URL."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(RedactSecretsFilter())
