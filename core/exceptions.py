"""One error format for the whole API: {"detail": "...", "code": "..."} plus field errors."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class PaymentRequired(exceptions.APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_detail = _("Not enough money.")
    default_code = "insufficient_funds"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("A dependency is unavailable, try again later.")
    default_code = "service_unavailable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _first_message(errors) -> tuple[str, str]:
    """The first (path, message, code) of a nested DRF error structure, as 'field: message'."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            message, code = _first_message(value)
            prefix = "" if field == "non_field_errors" else f"{field}: "
            return prefix + message, code
    if isinstance(errors, list):
        for value in errors:
            if value:
                return _first_message(value)
    return str(errors), getattr(errors, "code", "invalid") or "invalid"


def format_error(detail, default_code: str) -> dict:
    if isinstance(detail, dict) and "detail" in detail:
        # Already in our shape (e.g. simplejwt's {"detail", "code", "messages"}): keep its code.
        body = {"detail": str(detail["detail"]), "code": str(detail.get("code") or default_code)}
        body.update({k: v for k, v in detail.items() if k not in body})
        return body
    if isinstance(detail, dict | list):
        message, code = _first_message(detail)
        body = {"detail": message, "code": code or default_code}
        if isinstance(detail, dict):
            for field, value in detail.items():
                if field not in body:
                    body[field] = value
        else:
            body["errors"] = detail
        return body
    return {"detail": str(detail), "code": getattr(detail, "code", None) or default_code}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Reading the body past DATA_UPLOAD_MAX_MEMORY_SIZE (e.g. a form body in a throttle).
        exc = PayloadTooLarge()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        default_code = exc.default_code
        response.data = format_error(exc.detail, default_code)
    return response


def error_response(detail: str, code: str, status_code: int) -> Response:
    return Response({"detail": detail, "code": code}, status=status_code)
