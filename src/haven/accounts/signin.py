"""Sign-in in two steps: password (counted by django-axes for lockout), then TOTP.

Between the steps the session holds only the pending user's id and when the password was
accepted; nobody is signed in until the second factor is verified. A role that needs a
second factor and has no TOTP device yet enrols one in the same flow.

Guessing is bounded three ways: a per-address rate limit on every POST (the views), the
account lockout of django-axes (our `authenticate(request, ...)` call feeds it), and for the
code step a per-user count of wrong codes in a row: after `CODE_FAILURES_ALLOWED` the
pending sign-in is dropped, the password must be given again, and axes counts one failure,
so a guesser who holds the password still reaches the account lockout. django-otp's own
throttle (exponential delay after each wrong code) applies on top.
"""

from __future__ import annotations

import time
from datetime import timedelta
from enum import Enum
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_login_failed
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import User
from haven.audit.services import record

__all__ = [
    "CODE_FAILURES_ALLOWED",
    "PENDING_KEY",
    "CodeOutcome",
    "begin",
    "check_code",
    "confirmed_device",
    "drop_pending",
    "finish",
    "is_locked",
    "is_locked_for",
    "pending_user",
    "safe_next",
    "unlock",
    "verify_code",
]

PENDING_KEY = "haven_pending_sign_in"
PENDING_SECONDS = 300
CODE_FAILURES_ALLOWED = 5


class CodeOutcome(Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    THROTTLED = "throttled"  # django-otp asks to wait before the next try
    RESTART = "restart"  # too many wrong codes in a row: back to the password step


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it is a path on this site, else None: `next` must never lead elsewhere."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return None
    if any(ord(ch) < 32 for ch in url):
        return None
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return url


def begin(request: HttpRequest, username: str, password: str) -> User | None:
    """Check the password; on success remember the pending user, else audit the failure.

    A locked account fails here even with the right password: axes' backend refuses before
    the password is checked, and its middleware then answers with the locked page.
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not isinstance(user, User):
        locked = bool(getattr(request, "axes_locked_out", False))
        record(
            "auth.sign_in",
            request=request,
            actor="anonymous",
            actor_label=username[:150],
            outcome="denied" if locked else "failed",
            detail={"step": "password", "locked": locked},
        )
        return None
    # A new session key before anything is stored in it: no fixation across the steps.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
    return user


def pending_user(request: HttpRequest) -> User | None:
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        started = float(pending.get("at", 0))
    except (TypeError, ValueError):
        return None
    if time.time() - started > PENDING_SECONDS:
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def drop_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def verify_code(device: TOTPDevice, code: str) -> bool:
    """django-otp stores the last accepted time step, so a code cannot be used twice."""
    cleaned = "".join(ch for ch in code if ch.isdigit())
    return len(cleaned) == 6 and bool(device.verify_token(cleaned))


def check_code(request: HttpRequest, user: User, device: TOTPDevice, code: str) -> CodeOutcome:
    """Verify a code for the pending `user`, counting and auditing the wrong ones."""
    allowed, _ = device.verify_is_allowed()
    if allowed and verify_code(device, code):
        return CodeOutcome.ACCEPTED
    User.objects.filter(pk=user.pk).update(second_factor_failures=F("second_factor_failures") + 1)
    user.refresh_from_db(fields=["second_factor_failures"])
    record(
        "auth.sign_in",
        request=request,
        actor=f"user:{user.pk}",
        actor_label=user.get_username(),
        outcome="failed",
        detail={"step": "code", "throttled": not allowed},
    )
    if user.second_factor_failures < CODE_FAILURES_ALLOWED:
        return CodeOutcome.WRONG if allowed else CodeOutcome.THROTTLED
    User.objects.filter(pk=user.pk).update(second_factor_failures=0)
    drop_pending(request)
    record(
        "auth.code_limit",
        request=request,
        actor=f"user:{user.pk}",
        actor_label=user.get_username(),
        outcome="denied",
        detail={"failures": CODE_FAILURES_ALLOWED},
    )
    # One failure for axes, as a wrong password would be: enough of these lock the account
    # (and, when this one does, axes' middleware answers with the locked page).
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return CodeOutcome.RESTART


def finish(request: HttpRequest, user: User, device: TOTPDevice | None) -> None:
    drop_pending(request)
    if user.second_factor_failures:
        User.objects.filter(pk=user.pk).update(second_factor_failures=0)
        user.second_factor_failures = 0
    # login() rotates the session key again and, through axes, clears the failure count.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    record(
        "auth.sign_in",
        request=request,
        actor=f"user:{user.pk}",
        actor_label=user.get_username(),
        detail={"second_factor": device is not None},
    )


def is_locked_for(request: HttpRequest, username: str) -> bool:
    """Whether axes refuses this user name (or this request's address) now."""
    return bool(AxesProxyHandler.is_locked(request, {"username": username}))


def is_locked(username: str) -> bool:
    """Whether the account is locked now, for administration pages (no request needed)."""
    attempts = AccessAttempt.objects.filter(
        username=username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    cool_off = settings.AXES_COOLOFF_TIME
    if cool_off:
        since = timezone.now() - timedelta(hours=float(cool_off))
        attempts = attempts.filter(attempt_time__gte=since)
    return bool(attempts.exists())


def unlock(user: User) -> int:
    """Clear the user's lockout and wrong-code counts; returns the axes records removed."""
    removed = int(axes_reset(username=user.get_username()))
    User.objects.filter(pk=user.pk).update(second_factor_failures=0)
    for device in TOTPDevice.objects.filter(user=user):
        device.throttle_reset(commit=True)
    return removed
