"""Fixtures for the accounts tests: a fresh sign-in rate limiter for every test (it lives in
the process's memory, so one test's POSTs would otherwise count against the next)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from haven.accounts import views


@pytest.fixture(autouse=True)
def _fresh_login_limiter() -> Iterator[None]:
    views._login_limiter._counts.clear()
    yield
    views._login_limiter._counts.clear()


@pytest.fixture
def no_otp_throttle(settings: pytest.FixtureRequest) -> None:
    """django-otp delays the next try after a wrong code; tests that follow a wrong code
    with a right one in the same second switch the delay off."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # type: ignore[attr-defined]
