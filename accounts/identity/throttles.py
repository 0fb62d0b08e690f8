"""Sign-in throttles: per client IP and per account (phone, e-mail or username).

Counters live in the default cache (Redis in production), so every web process shares them.
Each endpoint counts separately (`view.throttle_group`). Rates are the DRF settings
`signin_ip` (THROTTLE_SIGNIN_IP) and `signin_account` (THROTTLE_SIGNIN_ACCOUNT).
"""

import contextlib
import hashlib

from django.core.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.identity.phones import normalize_phone


class _SignInThrottle(SimpleRateThrottle):
    def get_rate(self) -> str:
        # Read at request time (not import time) so that settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def _key(self, view, ident: str) -> str:
        return self.cache_format % {"scope": f"{self.scope}:{view.throttle_group}", "ident": ident}


class SignInIPThrottle(_SignInThrottle):
    scope = "signin_ip"

    def get_cache_key(self, request, view) -> str:
        return self._key(view, self.get_ident(request))


def account_ident(kind: str, value) -> str:
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

    def get_cache_key(self, request, view) -> str | None:
        field = view.throttle_account_field
        data = request.data
        value = data.get(field) if hasattr(data, "get") else None
        if value in (None, "") or isinstance(value, dict | list):
            return None
        return self._key(view, account_ident(field if field == "phone" else "other", value))


SIGNIN_THROTTLES = [SignInIPThrottle, SignInAccountThrottle]
