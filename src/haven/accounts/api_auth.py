"""Bearer-token authentication for the API, with a per-token rate limit.

A token found in the database is remembered by this process for one second (by the SHA-256
of its text, never the text), so a client sending a hundred batches a second costs one
query a second, not a hundred. So a revocation takes effect at once in the process that
made it and within a second in the others; expiry is checked on every request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from haven.accounts.models import ApiToken
from haven.accounts.permissions import Principal, principal_for_token
from haven.web.errors import ApiError
from haven.web.ratelimit import RateLimiter

__all__ = ["TokenAuth", "forget_cached_tokens"]

_LAST_USED_EVERY = timedelta(minutes=1)
_REMEMBER_SECONDS = 1.0
_REMEMBER_MAX = 10_000

_recent: dict[bytes, tuple[float, ApiToken]] = {}
_recent_lock = threading.Lock()


def forget_cached_tokens() -> None:
    """Drop every remembered token (after a revocation in this process)."""
    with _recent_lock:
        _recent.clear()


def _find(text: str) -> ApiToken | None:
    key = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    now = time.monotonic()
    with _recent_lock:
        remembered = _recent.get(key)
    if remembered is not None and remembered[0] > now:
        token = remembered[1]
        return token if token.is_live else None
    found = ApiToken.find(text)
    if found is not None:
        with _recent_lock:
            if len(_recent) >= _REMEMBER_MAX:
                _recent.clear()
            _recent[key] = (now + _REMEMBER_SECONDS, found)
    return found


class TokenAuth(HttpBearer):
    """`Authorization: Bearer hvn_...`: a live token becomes the request's principal."""

    def __init__(self) -> None:
        super().__init__()
        self.limiter = RateLimiter(settings.HAVEN.api_rate, 1.0)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = _find(token.strip())
        if found is None:
            return None
        if not self.limiter.allow(f"token:{found.pk}"):
            raise ApiError(429, "rate_limited", f"more than {self.limiter.limit} requests a second")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > _LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        principal = principal_for_token(found)
        request.haven_principal = principal  # type: ignore[attr-defined]
        return principal
