"""Sign-in throttles: per client IP and per account (phone, e-mail or username).

Counters live in the default cache (Redis in production), so every web process shares them.
Each endpoint counts separately (`view.throttle_group`). Rates are the DRF settings
`signin_ip` (THROTTLE_SIGNIN_IP) and `signin_account` (THROTTLE_SIGNIN_ACCOUNT).

The client IP is DRF's `get_ident`: REMOTE_ADDR while NUM_PROXIES is 0 (the default, so a
client's own X-Forwarded-For / Forwarded / X-Real-IP changes nothing), else the NUM_PROXIES-th
X-Forwarded-For address from the right. If the cache cannot be reached the throttles fail
closed: 503 `throttle_unavailable`, never an unthrottled sign-in and never a 500.
"""

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.identity.errors import ThrottleUnavailable
from accounts.identity.phones import normalize_phone

logger = logging.getLogger(__name__)

# A DRF Request, or the admin login's plain HttpRequest (the stubs accept only the former).
AnyRequest = Any


class _SignInThrottle(SimpleRateThrottle):
    scope: str  # every subclass names its rate

    def get_rate(self) -> str:
        # Read at request time (not import time) so that settings overrides apply.
        # The stubs type the rates as numbers; they are "N/period" strings.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]  # type: ignore[return-value]

    def allow_request(self, request: AnyRequest, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            logger.error("sign-in throttle store unreachable: %r", exc)
            raise ThrottleUnavailable() from exc

    def _key(self, view: Any, ident: str) -> str:
        return self.cache_format % {"scope": f"{self.scope}:{view.throttle_group}", "ident": ident}


class SignInIPThrottle(_SignInThrottle):
    scope = "signin_ip"

    def get_cache_key(self, request: AnyRequest, view: Any) -> str:
        return self._key(view, self.get_ident(request))


def account_ident(kind: str, value: object) -> str:
    """The canonical form of a phone, e-mail or username, so spellings share one counter."""
    value = str(value).strip()
    if kind == "phone":
        with contextlib.suppress(ValidationError):
            value = normalize_phone(value)
    else:
        value = value.lower()
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class SignInAccountThrottle(_SignInThrottle):
    """Keyed by `view.throttle_account_field` of the body; requests without it pass through."""

    scope = "signin_account"

    def get_cache_key(self, request: AnyRequest, view: Any) -> str | None:
        field = view.throttle_account_field
        # A DRF request has the parsed body in `data`; the admin's plain Django form in POST.
        data = request.data if hasattr(request, "data") else request.POST
        value = data.get(field) if hasattr(data, "get") else None
        if value in (None, "") or isinstance(value, dict | list):
            return None
        return self._key(view, account_ident(field if field == "phone" else "other", value))


SIGNIN_THROTTLES = [SignInIPThrottle, SignInAccountThrottle]


@dataclass(frozen=True)
class ThrottleGroup:
    """Stands in for a view when a non-DRF view (the admin login) is throttled."""

    throttle_group: str
    throttle_account_field: str


def check_signin_throttles(request: AnyRequest, group: ThrottleGroup) -> int | None:
    """Count the request in the sign-in throttles; seconds to wait if it is refused, else None.

    Raises ThrottleUnavailable when the cache cannot be reached.
    """
    for throttle_class in SIGNIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, group):
            return max(1, round(throttle.wait() or 1))
    return None
