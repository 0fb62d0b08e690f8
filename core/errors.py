"""Application errors: what the domain refuses, and the HTTP status the API answers it with.

Services, selectors and domain modules raise these (each app's own from its `errors.py`) and
never import DRF. The API's exception handler (`core.exceptions`) is the one place
that turns them into a response: `{"detail": ..., "code": ..., **fields, **extra}` with
`status`, plus `Retry-After` when `retry_after` is set.

    raise NotFound(_("No such service."))                       # 404 not_found
    raise Conflict(_("This charge is paid."), code="charge_paid")
    raise Invalid(_("Must be greater than 0."), field="amount")  # 400, detail "amount: ..."

Field validation that a model would also refuse may raise Django's `ValidationError` instead
(see docs/architecture.md, "Error contract"): the handler answers it as a 400 `invalid`.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

NON_FIELD_ERRORS = "non_field_errors"


def first_message(errors: object) -> str:
    """The first message of a nested field-error structure, as 'field: message'."""
    if isinstance(errors, Mapping):
        for field, value in errors.items():
            prefix = "" if field == NON_FIELD_ERRORS else f"{field}: "
            return prefix + first_message(value)
    if isinstance(errors, list | tuple):
        for value in errors:
            if value:
                return first_message(value)
    return str(errors)


class AppError(Exception):
    """A refusal of the domain. Subclasses set `status`, `default_code`, `default_message`.

    `field` names the one input field the message is about (the body then carries
    `{field: [message]}` and the detail reads "field: message"); `fields` gives several
    (`{field: [messages]}`, the detail is the first one). `extra` adds keys to the body as
    they are; `retry_after` (seconds) becomes the `Retry-After` header.
    """

    status: int = 400
    default_code: str = "error"
    default_message: str | Promise = _("The request cannot be processed.")
    default_retry_after: int | None = None

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: Mapping[str, Sequence[str]] | None = None,
        extra: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        if field is not None:
            fields = {field: [str(self.default_message if message is None else message)]}
        self.fields = dict(fields or {})
        if message is None:
            message = first_message(self.fields) if self.fields else self.default_message
        self.message = str(message)
        self.detail = first_message(self.fields) if self.fields else self.message
        self.code = code or self.default_code
        self.extra = dict(extra or {})
        self.retry_after = self.default_retry_after if retry_after is None else retry_after
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code, **self.fields, **self.extra}

    def headers(self) -> dict[str, str]:
        if self.retry_after:
            return {"Retry-After": str(int(self.retry_after))}
        return {}


class Invalid(AppError):
    """Input the domain refuses (400): usually one field, `Invalid(message, field="amount")`."""

    status = 400
    default_code = "invalid"
    default_message: str | Promise = _("Invalid input.")


class Unauthenticated(AppError):
    """Credentials (a token) that are not valid (401; 403 where the view has no auth scheme)."""

    status = 401
    default_code = "authentication_failed"
    default_message: str | Promise = _("Incorrect authentication credentials.")


class InsufficientFunds(AppError):
    status = 402
    default_code = "insufficient_funds"
    default_message: str | Promise = _("Not enough money.")


class Forbidden(AppError):
    status = 403
    default_code = "permission_denied"
    default_message: str | Promise = _("You do not have permission to perform this action.")


class NotFound(AppError):
    status = 404
    default_code = "not_found"
    default_message: str | Promise = _("Not found.")


class Conflict(AppError):
    status = 409
    default_code = "conflict"
    default_message: str | Promise = _("The request conflicts with the current state.")


class PayloadTooLarge(AppError):
    status = 413
    default_code = "payload_too_large"
    default_message: str | Promise = "The request body is too large."


class Unprocessable(AppError):
    status = 422
    default_code = "unprocessable"
    default_message: str | Promise = _("The request cannot be processed.")


# DRF's wording for the wait, so its catalogue translates it (kept out of our own catalogue).
_WAIT_ONE = "Expected available in {wait} second."
_WAIT_MANY = "Expected available in {wait} seconds."


class RateLimited(AppError):
    """Too many requests (429): the detail ends with the wait, as DRF's throttles say it."""

    status = 429
    default_code = "throttled"
    default_message: str | Promise = _("Request was throttled.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        retry_after: float,
        code: str | None = None,
        **kwargs: Any,
    ) -> None:
        wait = math.ceil(retry_after)
        text = str(self.default_message if message is None else message)
        text = " ".join((text, gettext(_WAIT_ONE if wait == 1 else _WAIT_MANY).format(wait=wait)))
        super().__init__(text, code=code, retry_after=wait, **kwargs)


class InternalError(AppError):
    """A failure the client may retry, answered as a plain 500."""

    status = 500
    default_code = "error"
    default_message: str | Promise = _("A server error occurred.")


class Unavailable(AppError):
    status = 503
    default_code = "service_unavailable"
    default_message: str | Promise = _("A dependency is unavailable, try again later.")
