import logging

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# Browser-facing pages keep Django's HTML errors; every other path is API and answers JSON.
HTML_PREFIXES = ("/admin/", "/static/")

_DEFAULT_ERRORS = {
    400: (_("Bad request."), "bad_request"),
    403: (_("You do not have permission to perform this action."), "permission_denied"),
    404: (_("Not found."), "not_found"),
    405: (_("Method not allowed."), "method_not_allowed"),
    500: (_("Internal server error."), "server_error"),
}


def json_error(status: int) -> JsonResponse:
    detail, code = _DEFAULT_ERRORS.get(status, (_("Error."), "error"))
    return JsonResponse({"detail": str(detail), "code": code}, status=status)


class JsonErrorsMiddleware:
    """Turns Django's HTML error pages (unmatched URL, 405 of plain views, crashes) into JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(HTML_PREFIXES) or response.status_code not in _DEFAULT_ERRORS:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replacement = json_error(response.status_code)
        if response.has_header("Allow"):
            replacement["Allow"] = response["Allow"]
        return replacement

    def process_exception(self, request, exception):
        if request.path.startswith(HTML_PREFIXES):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error(500)
