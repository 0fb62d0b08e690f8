"""`Idempotency-Key` support for money and stock writes.

The key row is inserted in the same transaction as the write it guards. A concurrent request
with the same key blocks on the unique index until the first one commits, then replays the
stored answer, so N parallel retries produce exactly one effect.
"""

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import Unprocessable
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request: Request) -> str:
    body: Any = request.data
    if hasattr(body, "lists"):  # QueryDict from form data: keep repeated values
        body = dict(body.lists())
    canonical = json.dumps(
        {"method": request.method, "path": request.get_full_path(), "body": body},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Unprocessable(
            _("This Idempotency-Key was already used with a different request."),
            code="idempotency_key_reused",
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


# A TypeVar, not a ParamSpec: the decorated method keeps its exact signature (a ParamSpec makes
# `request` positional-only, which no longer overrides DRF's `create(self, request, ...)`).
_ViewMethod = TypeVar("_ViewMethod", bound=Callable[..., Response])


def idempotent(view_method: _ViewMethod) -> _ViewMethod:
    """Decorate a DRF view method so that a retry with the same key replays the first answer.

    Answers with status < 500 are stored (a refused debit is replayed as refused), whatever
    raised them: a DRF exception, an application error or Django's ValidationError all go
    through the view's exception handling here. A 5xx answer, or an exception nothing turns
    into an answer, rolls the key back so that the client may retry.
    """

    @functools.wraps(view_method)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if not key:
            return view_method(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise exceptions.ValidationError(
                {HEADER: [_("At most %(max)s characters.") % {"max": MAX_KEY_LENGTH}]}
            )
        user = request.user if request.user.is_authenticated else None
        fingerprint = request_fingerprint(request)

        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing:
            return _replay(existing, fingerprint)

        try:
            with transaction.atomic():
                # Claim the key first: parallel requests with it wait here until we commit.
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, response_status=0
                )
                try:
                    with transaction.atomic():
                        response = view_method(view, request, *args, **kwargs)
                except Exception as exc:
                    # The answer the client would get; re-raises what nothing answers (a 500).
                    response = view.handle_exception(exc)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                    return response
                record.response_status = response.status_code
                record.response_body = _json_safe(response.data)
                record.save(update_fields=["response_status", "response_body"])
                return response
        except IntegrityError:
            # Lost the race for the key: the winner has committed, replay its answer.
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
            if existing is None:
                raise
            return _replay(existing, fingerprint)

    return cast(_ViewMethod, wrapper)


def _json_safe(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str)) if data is not None else None


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many were removed."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
