import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from core.health import readiness_failures
from core.middleware import json_error

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker and Redis reachable; 503 naming what failed otherwise."""
    failures = readiness_failures()
    if failures:
        # The endpoint is public: it names what failed; the exception text goes to the log only.
        for error in failures.values():
            logger.warning("readiness check failed: %s", error)
        names = sorted(failures)
        return JsonResponse(
            {
                "status": "unavailable",
                "detail": f"Not ready: {', '.join(names)} unavailable.",
                "code": "not_ready",
                "failed": names,
            },
            status=503,
        )
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404)


def server_error(request: HttpRequest) -> JsonResponse:
    return json_error(500)
