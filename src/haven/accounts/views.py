"""Sign-in, second factor, enrolment and sign-out pages.

User and token administration live in `haven.accounts.admin_views`.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts import signin
from haven.accounts.models import User
from haven.accounts.permissions import principal_for_user
from haven.audit.services import client_ip, record
from haven.web.ratelimit import RateLimiter

__all__ = [
    "change_password",
    "enroll",
    "locked_out",
    "login_view",
    "logout_view",
    "second_factor",
]

_login_limiter = RateLimiter(settings.HAVEN.login_rate, 60.0)


class PasswordForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="User name",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        max_length=1024,
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="Six-digit code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Any = None,
) -> HttpResponse:
    """Called by django-axes' middleware when an account or address is locked."""
    username = ""
    if isinstance(credentials, dict):
        username = str(credentials.get("username", ""))[:150]
    signin.drop_pending(request)
    record(
        "auth.locked_out",
        request=request,
        actor="anonymous",
        actor_label=username,
        outcome="denied",
    )
    return render(
        request,
        "accounts/locked.html",
        {"minutes": settings.HAVEN.lockout_minutes},
        status=403,
    )


def _too_many(request: HttpRequest) -> HttpResponse | None:
    if _login_limiter.allow(client_ip(request) or "unknown"):
        return None
    record("auth.rate_limited", request=request, outcome="denied", detail={"path": request.path})
    response = render(request, "accounts/rate_limited.html", status=429)
    response["Retry-After"] = str(_login_limiter.retry_after())
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = signin.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = PasswordForm(request.POST or None)
    if request.method == "POST":
        limited = _too_many(request)
        if limited is not None:
            return limited
        if form.is_valid():
            user = signin.begin(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
            if user is not None:
                if next_url:
                    request.session[_NEXT_KEY] = next_url
                if signin.confirmed_device(user) is not None:
                    return redirect("accounts:second-factor")
                if user.needs_second_factor:
                    return redirect("accounts:enroll")
                signin.finish(request, user, None)
                return redirect(_next(request))
            form.add_error(None, "Wrong user name or password.")
    return render(request, "accounts/login.html", {"form": form, "next": next_url or ""})


_NEXT_KEY = "haven_next"


def _next(request: HttpRequest) -> str:
    wanted = signin.safe_next(request, request.session.pop(_NEXT_KEY, None))
    return wanted or str(settings.LOGIN_REDIRECT_URL)


def _code_step(
    request: HttpRequest, user: User, device: TOTPDevice, form: CodeForm
) -> HttpResponse | bool:
    """Handle a posted code: True when accepted, a response when the sign-in is over
    (locked, or back to the password step), False to show the form again with its error."""
    if signin.is_locked_for(request, user.get_username()):
        return locked_out(request, None, {"username": user.get_username()})
    if not form.is_valid():
        return False
    outcome = signin.check_code(request, user, device, form.cleaned_data["code"])
    if outcome is signin.CodeOutcome.ACCEPTED:
        return True
    if outcome is signin.CodeOutcome.RESTART:
        messages.error(request, "Too many wrong codes. Sign in again with your password.")
        return redirect("accounts:login")
    if outcome is signin.CodeOutcome.THROTTLED:
        form.add_error("code", "Too many wrong codes: wait a few seconds, then try again.")
    else:
        form.add_error("code", "That code is not valid (or was already used). Try the next one.")
    return False


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    user = signin.pending_user(request)
    device = signin.confirmed_device(user) if user is not None else None
    if user is None or device is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        limited = _too_many(request)
        if limited is not None:
            return limited
        step = _code_step(request, user, device, form)
        if isinstance(step, HttpResponse):
            return step
        if step:
            signin.finish(request, user, device)
            return redirect(_next(request))
    return render(request, "accounts/second_factor.html", {"form": form})


def _qr_data_uri(url: str) -> str:
    return str(segno.make(url, error="m").svg_data_uri(scale=4))


@never_cache
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest) -> HttpResponse:
    """First sign-in of a role that needs TOTP: show a secret, confirm it with a code."""
    user = signin.pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if signin.confirmed_device(user) is not None:
        return redirect("accounts:second-factor")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        limited = _too_many(request)
        if limited is not None:
            return limited
        step = _code_step(request, user, device, form)
        if isinstance(step, HttpResponse):
            return step
        if step:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record(
                "auth.totp_enrolled",
                request=request,
                actor=f"user:{user.pk}",
                actor_label=user.get_username(),
                target_type="user",
                target_id=user.pk,
            )
            signin.finish(request, user, device)
            messages.success(request, "Second factor set up.")
            return redirect(_next(request))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/enroll.html",
        {"form": form, "secret": secret, "qr": _qr_data_uri(device.config_url)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    """Any signed-in person changes their own password (the current one is asked first)."""
    if principal_for_user(request.user) is None:
        return redirect_to_login(request.get_full_path())
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)  # this session stays signed in
        record(
            "auth.password_change", request=request, target_type="user", target_id=request.user.pk
        )
        messages.success(request, "Your password is changed.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/password_change.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record("auth.sign_out", request=request)
    logout(request)
    return redirect("accounts:login")
