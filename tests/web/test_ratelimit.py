"""Rate limits: the fixed-window counter, and the API's per-token limit answering 429."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from tests.accounts.helpers import make_agency

from haven.accounts.api_auth import TokenAuth
from haven.accounts.models import ApiToken
from haven.web.api import api
from haven.web.ratelimit import RateLimiter


def test_a_window_admits_its_limit_then_refuses_until_the_next() -> None:
    limiter = RateLimiter(3, 10.0)
    assert [limiter.allow("k", now=100.0 + i) for i in range(5)] == [True] * 3 + [False] * 2
    assert limiter.allow("other", now=104.0)  # keys are counted apart
    assert limiter.allow("k", now=110.0)  # the next window
    assert limiter.retry_after(now=112.5) == 8


@pytest.mark.django_db
def test_the_api_answers_429_past_a_tokens_rate(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = next(a for a in api.auth if isinstance(a, TokenAuth))
    monkeypatch.setattr(auth, "limiter", RateLimiter(3, 60.0))
    _, text = ApiToken.issue("burst", ["match"], make_agency())
    _, other = ApiToken.issue("calm", ["match"], make_agency())
    body = json.dumps({"hashes": ["0" * 64]})

    def post(token: str) -> int:
        return client.post(
            "/api/v1/match",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).status_code

    assert [post(text) for _ in range(4)] == [200, 200, 200, 429]
    refused = client.post(
        "/api/v1/match", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {text}"
    )
    assert refused.json()["error"]["code"] == "rate_limited"
    assert post(other) == 200  # another token has its own allowance
