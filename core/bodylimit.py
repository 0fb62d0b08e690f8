"""Request body limits, enforced before a body is read whole.

Every path may carry at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes, except the few listed in
LARGE_BODY_PATHS (the bulk receipts endpoint: 32 MiB). Under WSGI the middleware refuses a
too long Content-Length before anything reads the body. Under ASGI Django spools the whole body
before any middleware runs, so `BodyLimitASGI` wraps the HTTP app: it refuses a too long
Content-Length without receiving a byte of the body, and stops reading a chunked body (no
Content-Length) as soon as it passes the limit.
"""

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

TOO_LARGE_CODE = "payload_too_large"

# The ASGI callables, as loosely as the spec defines them.
Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def body_limit(path: str) -> int:
    """The largest body, in bytes, that `path` accepts."""
    limit: int = settings.LARGE_BODY_PATHS.get(
        path.rstrip("/"), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    return limit


def too_large_body(limit: int) -> dict[str, str]:
    return {"detail": f"The request body is larger than {limit} bytes.", "code": TOO_LARGE_CODE}


class BodyLimitMiddleware:
    """413 for a declared body over the path's limit, before the view reads it (WSGI and ASGI)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = body_limit(request.path_info)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": "Content-Length must be a number.", "code": "bad_request"}, status=400
            )
        if length > limit:
            response = JsonResponse(too_large_body(limit), status=413)
            response["Connection"] = "close"  # the rest of the body is never read
            return response
        return self.get_response(request)


class BodyLimitASGI:
    """ASGI wrapper of the HTTP app: refuses bodies over the limit without reading them whole."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.strip().isdigit() and int(declared) > limit:
                return await _refuse(send, limit)
            return await self.app(scope, receive, send)  # h11/httptools cap it at the length
        if b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)  # no body at all
        # Chunked: buffer up to the limit, then hand the messages over unchanged.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                return await _refuse(send, limit)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(too_large_body(limit)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the server drops the unread rest of the body
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
