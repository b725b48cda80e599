"""Bearer-token authentication for the API, with a per-token rate limit."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from haven.accounts.models import ApiToken
from haven.accounts.permissions import Principal, principal_for_token
from haven.web.errors import ApiError
from haven.web.ratelimit import RateLimiter

__all__ = ["TokenAuth"]

_LAST_USED_EVERY = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer hvn_...`: a live token becomes the request's principal."""

    def __init__(self) -> None:
        super().__init__()
        self.limiter = RateLimiter(settings.HAVEN.api_rate, 1.0)

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = ApiToken.find(token.strip())
        if found is None:
            return None
        if not self.limiter.allow(f"token:{found.pk}"):
            raise ApiError(429, "rate_limited", f"more than {self.limiter.limit} requests a second")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > _LAST_USED_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        principal = principal_for_token(found)
        request.haven_principal = principal  # type: ignore[attr-defined]
        return principal
