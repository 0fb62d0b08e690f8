"""One error format for the whole API: {"detail": "...", "code": "..."} plus field errors.

`api_exception_handler` is DRF's EXCEPTION_HANDLER. It answers the domain's `core.errors.AppError`
(status, body and headers from the error), Django's ValidationError, Http404, PermissionDenied
and RequestDataTooBig, and DRF's own exceptions, all in that one format.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from core.errors import AppError, PayloadTooLarge


def _first_message(errors: object) -> tuple[str, str]:
    """The first (message, code) of a nested DRF error structure; the message reads
    'field: message' (no prefix for non_field_errors)."""
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


def format_error(detail: object, default_code: str) -> dict[str, Any]:
    body: dict[str, Any]
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


def app_error_response(exc: AppError, context: Mapping[str, Any]) -> Response:
    """The answer to an application error: its body, status and headers."""
    status_code, headers = exc.status, exc.headers()
    if status_code == 401:
        # As DRF does for AuthenticationFailed: 401 with the view's WWW-Authenticate, or 403
        # where the view has no authentication scheme to name.
        view, request = context.get("view"), context.get("request")
        auth_header = view.get_authenticate_header(request) if view and request else None
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        else:
            status_code = 403
    set_rollback()
    return Response(exc.body(), status=status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AppError):
        return app_error_response(exc, context)
    if isinstance(exc, RequestDataTooBig):
        # Reading the body past DATA_UPLOAD_MAX_MEMORY_SIZE (e.g. a form body in a throttle).
        return app_error_response(PayloadTooLarge(), context)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        default_code = exc.default_code
        response.data = format_error(exc.detail, default_code)
    return response


def error_response(detail: str, code: str, status_code: int) -> Response:
    return Response({"detail": detail, "code": code}, status=status_code)
