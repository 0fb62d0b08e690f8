import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

GetResponse = Callable[[HttpRequest], HttpResponseBase]

# Browser-facing pages keep Django's HTML errors; every other path is API and answers JSON.
HTML_PREFIXES = ("/admin/", "/static/")

_DEFAULT_ERRORS = {
    400: (_("Bad request."), "bad_request"),
    403: (_("You do not have permission to perform this action."), "permission_denied"),
    404: (_("Not found."), "not_found"),
    405: (_("Method not allowed."), "method_not_allowed"),
    413: (_("The request body is too large."), "payload_too_large"),
    500: (_("Internal server error."), "server_error"),
}


def json_error(status: int) -> JsonResponse:
    detail, code = _DEFAULT_ERRORS.get(status, (_("Error."), "error"))
    return JsonResponse({"detail": str(detail), "code": code}, status=status)


class JsonErrorsMiddleware:
    """Turns Django's HTML error pages (unmatched URL, 405 of plain views, crashes) into JSON."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(HTML_PREFIXES) or response.status_code not in _DEFAULT_ERRORS:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replacement = json_error(response.status_code)
        if response.has_header("Allow"):
            replacement["Allow"] = response["Allow"]
        return replacement

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return json_error(413)
        if request.path.startswith(HTML_PREFIXES):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error(500)


class NulCharactersMiddleware:
    """400 for a NUL character in the path or the query string.

    PostgreSQL cannot hold U+0000 in text, so a lookup by such a value fails in the driver
    (a 500) instead of simply finding nothing. JSON bodies are checked by core.parsers.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "\x00" in request.path or _query_has_nul(request):
            return JsonResponse(
                {"detail": "NUL characters are not allowed in the URL.", "code": "nul_character"},
                status=400,
            )
        return self.get_response(request)


def _query_has_nul(request: HttpRequest) -> bool:
    query = request.META.get("QUERY_STRING", "")
    if "%00" not in query and "\x00" not in query:
        return False
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )
