"""Secrets out of logs: `token=...` (and similar) in a logged URL is replaced by `[redacted]`.

Installed on the web servers' own loggers (uvicorn, gunicorn: their access lines hold the full
URL) by CoreConfig.ready(), and on the console handler through settings.LOGGING.
"""

import logging
import re

SECRET_PARAMETERS = re.compile(
    r"(?P<name>(?:^|(?<=[?&;\s\"']))(?:token|access_token|refresh_token|key|code|password)=)"
    r"[^&;\s\"']+",
    re.IGNORECASE,
)
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    return SECRET_PARAMETERS.sub(r"\g<name>[redacted]", text) if "=" in text else text


def _redact_value(value):
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


def install() -> None:
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(RedactSecretsFilter())
