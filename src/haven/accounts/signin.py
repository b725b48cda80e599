"""Sign-in in two steps: password (counted by django-axes for lockout), then TOTP.

Between the steps the session holds only the pending user's id and when the password was
accepted; nobody is signed in until the second factor is verified. A role that needs a
second factor and has no TOTP device yet enrols one in the same flow.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import authenticate, login
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import User
from haven.audit.services import record

__all__ = [
    "PENDING_KEY",
    "begin",
    "confirmed_device",
    "finish",
    "pending_user",
    "verify_code",
]

PENDING_KEY = "haven_pending_sign_in"
PENDING_SECONDS = 300


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def begin(request: HttpRequest, username: str, password: str) -> User | None:
    """Check the password; on success remember the pending user, else audit the failure."""
    user = authenticate(request, username=username, password=password)
    if user is None or not isinstance(user, User):
        record(
            "auth.sign_in",
            request=request,
            actor="anonymous",
            actor_label=username[:150],
            outcome="failed",
        )
        return None
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
    return user


def pending_user(request: HttpRequest) -> User | None:
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    user_id = pending.get("user")
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def verify_code(device: TOTPDevice, code: str) -> bool:
    """django-otp stores the last accepted time step, so a code cannot be used twice."""
    cleaned = "".join(ch for ch in code if ch.isdigit())
    return len(cleaned) == 6 and bool(device.verify_token(cleaned))


def finish(request: HttpRequest, user: User, device: TOTPDevice | None) -> None:
    request.session.pop(PENDING_KEY, None)
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
