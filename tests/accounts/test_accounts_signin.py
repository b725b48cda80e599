"""Sign-in: argon2 passwords, the TOTP step, enrolment, lockout, rate limits, sessions."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.accounts.helpers import (
    PASSWORD,
    code_for,
    make_device,
    make_user,
    signed_in_client,
)

from haven.accounts import signin, views
from haven.accounts.models import User
from haven.audit.models import AuditEntry
from haven.web.ratelimit import RateLimiter

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:second-factor")
ENROLL = reverse("accounts:enroll")
DASHBOARD = reverse("web:dashboard")


def _password(client: Client, username: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def _wrong_code(device: TOTPDevice) -> str:
    """A six-digit code that is not valid for the device in the current window."""
    now = time.time()
    valid = {code_for(device, now + step * device.step) for step in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def _actions(action: str, **filters: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, **filters).order_by("seq"))


def test_created_password_is_hashed_with_argon2() -> None:
    user = make_user("auditor", password=PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


def test_password_then_totp_signs_in(client: Client) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)

    response = _password(client, user.username)
    assert response.status_code == 302 and response["Location"] == CODE
    # Half-way, nobody is signed in.
    assert client.get(DASHBOARD).status_code == 302

    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(reverse("accounts:users")).status_code == 200

    entry = _actions("auth.sign_in", outcome="ok")[-1]
    assert entry.actor == f"user:{user.pk}"
    assert entry.detail == {"second_factor": True}
    device.refresh_from_db()
    assert device.last_t > 0


def test_the_same_code_is_refused_the_second_time(client: Client) -> None:
    user = make_user("case_worker", password=PASSWORD)
    device = make_device(user)
    code = code_for(device)
    _password(client, user.username)
    assert client.post(CODE, {"code": code}).status_code == 302
    client.post(reverse("accounts:logout"))

    _password(client, user.username)
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 302


def test_a_wrong_code_is_refused_and_audited(client: Client, no_otp_throttle: None) -> None:
    user = make_user("supervisor", password=PASSWORD)
    device = make_device(user)
    _password(client, user.username)
    response = client.post(CODE, {"code": _wrong_code(device)})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    failed = _actions("auth.sign_in", outcome="failed")
    assert failed[-1].actor == f"user:{user.pk}" and failed[-1].detail["step"] == "code"
    user.refresh_from_db()
    assert user.second_factor_failures == 1
    # The right code still works, and clears the count.
    assert client.post(CODE, {"code": code_for(device)}).status_code == 302
    user.refresh_from_db()
    assert user.second_factor_failures == 0


def test_code_step_without_a_password_step_goes_back_to_sign_in(client: Client) -> None:
    assert client.get(CODE)["Location"] == LOGIN
    assert client.post(CODE, {"code": "123456"})["Location"] == LOGIN


def test_pending_sign_in_expires(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    _password(client, user.username)
    later = time.time() + signin.PENDING_SECONDS + 1
    monkeypatch.setattr(signin.time, "time", lambda: later)
    assert client.post(CODE, {"code": code_for(device)})["Location"] == LOGIN


def test_enrolment_for_a_role_that_needs_totp(client: Client) -> None:
    user = make_user("focal_point", password=PASSWORD)
    response = _password(client, user.username)
    assert response["Location"] == ENROLL
    page = client.get(ENROLL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = page.context["secret"]
    assert secret and secret in page.content.decode()
    assert 'alt="QR code' in page.content.decode()

    response = client.post(ENROLL, {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(DASHBOARD).status_code == 200
    assert _actions("auth.totp_enrolled")[-1].target_id == str(user.pk)

    # From now on the code step is asked for, not enrolment.
    client.post(reverse("accounts:logout"))
    assert _password(client, user.username)["Location"] == CODE


def test_enrolment_refuses_a_wrong_code(client: Client) -> None:
    user = make_user("case_worker", password=PASSWORD)
    _password(client, user.username)
    client.get(ENROLL)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(ENROLL, {"code": _wrong_code(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed


def test_a_role_without_totp_signs_in_with_the_password(client: Client) -> None:
    user = make_user("auditor", password=PASSWORD)
    response = _password(client, user.username)
    assert response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    assert _actions("auth.sign_in", outcome="ok")[-1].detail == {"second_factor": False}


def test_wrong_password_is_refused_and_audited(client: Client) -> None:
    user = make_user("auditor", password=PASSWORD)
    response = _password(client, user.username, "not the password at all")
    assert response.status_code == 200
    assert "Wrong user name or password." in response.content.decode()
    entry = _actions("auth.sign_in", outcome="failed")[-1]
    assert entry.actor == "anonymous" and entry.actor_label == user.username
    assert entry.detail == {"step": "password", "locked": False}
    assert "not the password at all" not in str(entry.detail) + entry.actor_label


def test_inactive_user_cannot_sign_in(client: Client) -> None:
    user = make_user("auditor", password=PASSWORD, is_active=False)
    assert _password(client, user.username).status_code == 200
    assert client.get(DASHBOARD).status_code == 302


def test_lockout_after_the_configured_failures(client: Client) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    user = make_user("auditor", password=PASSWORD)
    for _ in range(limit - 1):
        assert _password(client, user.username, "wrong password here").status_code == 200
    # axes counted the failures of our authenticate(request, ...) call.
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == limit - 1

    response = _password(client, user.username, "wrong password here")
    assert response.status_code == 403
    assert "Account locked" in response.content.decode()

    # Locked: even the right password gets the locked page, and nobody is signed in.
    response = _password(client, user.username)
    assert response.status_code == 403
    assert "Account locked" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 302

    assert len(_actions("auth.sign_in", outcome="failed")) == limit - 1
    locked = _actions("auth.locked_out")
    assert len(locked) == 2
    assert all(e.actor_label == user.username and e.outcome == "denied" for e in locked)
    assert not _actions("auth.sign_in", outcome="ok")
    assert signin.is_locked(user.username)


def test_lockout_holds_for_the_code_step_too(client: Client) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    _password(client, user.username)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password(Client(), user.username, "wrong password here")
    response = client.post(CODE, {"code": code_for(device)})
    assert response.status_code == 403
    assert client.get(DASHBOARD).status_code == 302


def test_too_many_wrong_codes_start_over_and_count_for_lockout(
    client: Client, no_otp_throttle: None
) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    _password(client, user.username)
    for attempt in range(1, signin.CODE_FAILURES_ALLOWED + 1):
        response = client.post(CODE, {"code": _wrong_code(device)})
        if attempt < signin.CODE_FAILURES_ALLOWED:
            assert response.status_code == 200
    assert response.status_code == 302 and response["Location"] == LOGIN
    # The pending sign-in is gone: even the right code now leads back to the password.
    assert client.post(CODE, {"code": code_for(device)})["Location"] == LOGIN
    assert _actions("auth.code_limit")[-1].actor == f"user:{user.pk}"
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 1
    user.refresh_from_db()
    assert user.second_factor_failures == 0


def test_wrong_codes_lead_to_the_account_lockout(client: Client, no_otp_throttle: None) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    for n in range(limit - 1):  # from other addresses: the rate limit is not the point here
        _password(Client(REMOTE_ADDR=f"192.0.2.{n + 20}"), user.username, "wrong password here")
    _password(client, user.username)  # right password: the code step is next
    for _ in range(signin.CODE_FAILURES_ALLOWED):
        response = client.post(CODE, {"code": _wrong_code(device)})
    assert response.status_code == 403
    assert "Account locked" in response.content.decode()
    assert _password(client, user.username).status_code == 403


LONG_WINDOW = 1e9  # seconds


def test_sign_in_is_rate_limited_per_address(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window far longer than the test: fixed windows reset at their boundary, and a slow
    # machine could otherwise cross one between the attempts.
    monkeypatch.setattr(views, "_login_limiter", RateLimiter(3, LONG_WINDOW))
    for _ in range(3):
        assert _password(client, "nobody", "wrong password here").status_code == 200
    response = _password(client, "nobody", "wrong password here")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many attempts" in response.content.decode()
    assert _actions("auth.rate_limited")[-1].outcome == "denied"
    # Another address is not affected.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert _password(other, "nobody", "wrong password here").status_code == 200


def test_code_step_is_rate_limited(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    _password(client, user.username)
    monkeypatch.setattr(views, "_login_limiter", RateLimiter(1, LONG_WINDOW))
    client.post(CODE, {"code": _wrong_code(device)})
    assert client.post(CODE, {"code": code_for(device)}).status_code == 429


@pytest.mark.parametrize(
    ("wanted", "lands"),
    [
        ("/audit/", "/audit/"),
        ("//evil.example/", DASHBOARD),
        ("https://evil.example/", DASHBOARD),
        ("/\\evil.example", DASHBOARD),
        ("javascript:alert(1)", DASHBOARD),
        ("/\tevil", DASHBOARD),
        ("/x\nSet-Cookie: a=b", DASHBOARD),
    ],
)
def test_next_only_leads_within_the_site(client: Client, wanted: str, lands: str) -> None:
    user = make_user("auditor", password=PASSWORD)
    form = {"username": user.username, "password": PASSWORD, "next": wanted}
    response = client.post(LOGIN, form)
    assert response.status_code == 302 and response["Location"] == lands


def test_next_from_the_query_string(client: Client) -> None:
    user = make_user("auditor", password=PASSWORD)
    form = {"username": user.username, "password": PASSWORD}
    assert client.post(f"{LOGIN}?next=/audit/", form)["Location"] == "/audit/"
    client.post(reverse("accounts:logout"))
    assert client.post(f"{LOGIN}?next=//evil.example/", form)["Location"] == DASHBOARD


def test_next_survives_the_code_step(client: Client) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    page = client.get(f"{LOGIN}?next=/accounts/users/")
    assert 'name="next" value="/accounts/users/"' in page.content.decode()
    form = {"username": user.username, "password": PASSWORD, "next": "/accounts/users/"}
    client.post(LOGIN, form)
    response = client.post(CODE, {"code": code_for(device)})
    assert response["Location"] == "/accounts/users/"


def test_session_key_changes_at_sign_in(client: Client) -> None:
    user = make_user("administrator", password=PASSWORD)
    device = make_device(user)
    session = client.session
    session["before"] = True
    session.save()
    first = client.cookies[settings.SESSION_COOKIE_NAME].value
    _password(client, user.username)
    middle = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(CODE, {"code": code_for(device)})
    last = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert len({first, middle, last}) == 3


def test_sign_out_is_post_only_and_audited(client: Client) -> None:
    user = make_user("administrator")
    signed_in_client(client, user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(DASHBOARD).status_code == 200
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == LOGIN
    assert client.get(DASHBOARD).status_code == 302
    assert _actions("auth.sign_out")[-1].actor == f"user:{user.pk}"


def test_unverified_session_of_a_totp_role_is_signed_out(client: Client) -> None:
    user = make_user("case_worker")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    entry = _actions("auth.sign_out", outcome="denied")[-1]
    assert entry.actor == f"user:{user.pk}"


def test_role_without_totp_keeps_an_unverified_session(client: Client) -> None:
    user = make_user("trainer")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(DASHBOARD).status_code == 200


def test_helper_gives_a_verified_session_for_every_role(client: Client) -> None:
    for role in ("administrator", "provider_analyst", "case_worker", "auditor"):
        c = signed_in_client(Client(), make_user(role))
        assert c.get(DASHBOARD).status_code == 200, role


def test_the_locked_account_can_be_unlocked_by_an_administrator(client: Client) -> None:
    user = make_user("auditor", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password(Client(REMOTE_ADDR="192.0.2.10"), user.username, "wrong password here")
    assert _password(client, user.username).status_code == 403

    admin = signed_in_client(Client(), make_user("administrator"))
    detail = admin.get(reverse("accounts:user-detail", args=[user.pk]))
    assert "Unlock the account" in detail.content.decode()
    response = admin.post(reverse("accounts:user-unlock", args=[user.pk]))
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert _actions("user.unlock")[-1].target_id == str(user.pk)

    assert _password(client, user.username)["Location"] == DASHBOARD


def test_reset_totp_signs_the_user_out_and_asks_for_enrolment(client: Client) -> None:
    user = make_user("case_worker", password=PASSWORD)
    signed_in_client(client, user)
    assert client.get(DASHBOARD).status_code == 200

    admin = signed_in_client(Client(), make_user("administrator"))
    admin.post(reverse("accounts:user-reset-totp", args=[user.pk]))
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert _actions("user.reset_totp")[-1].target_id == str(user.pk)

    assert client.get(DASHBOARD)["Location"] == LOGIN
    assert _password(client, user.username)["Location"] == ENROLL


def test_a_user_row_stays_after_deactivation() -> None:
    user = make_user("auditor")
    user.is_active = False
    user.save()
    assert User.objects.filter(pk=user.pk).exists()
