"""Building blocks for tests that need people: a user of a role, and a signed-in client.

Other domains' tests import these (`from tests.accounts.helpers import make_user,
signed_in_client`), so a test never has to walk the two-step sign-in just to reach a page.
`signed_in_client` produces the same session the real flow does: Django's login plus
django-otp's verified device for roles that need a second factor, so
`RequireVerifiedSignInMiddleware` lets it through.
"""

from __future__ import annotations

import base64
import itertools

import pyotp
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import Agency, ApiToken, Team, User
from haven.accounts.roles import Role

__all__ = [
    "DEFAULT_AGENCY",
    "PASSWORD",
    "code_for",
    "make_agency",
    "make_device",
    "make_user",
    "signed_in_client",
    "token_client",
]

DEFAULT_AGENCY = "Test agency"
# A password the validators accept, for tests that sign in through the real form.
PASSWORD = "correct horse battery staple 42"

_serial = itertools.count(1)


def make_agency(name: str = DEFAULT_AGENCY) -> Agency:
    agency, _ = Agency.objects.get_or_create(name=name)
    return agency


def make_user(
    role: Role | str,
    agency: Agency | str | None = None,
    team: Team | str | None = None,
    username: str | None = None,
    *,
    password: str | None = None,
    is_active: bool = True,
) -> User:
    """A user of `role` in `agency` (default: "Test agency"), optionally in `team`.

    `agency` and `team` may be given by name (created when missing). Without `password`
    the user has an unusable one, which keeps tests fast (no argon2 hashing); pass
    `password=PASSWORD` to sign in through the real form.
    """
    role = Role(role)
    the_agency = agency if isinstance(agency, Agency) else make_agency(agency or DEFAULT_AGENCY)
    the_team: Team | None
    if isinstance(team, Team):
        the_team = team
    elif team is not None:
        the_team, _ = Team.objects.get_or_create(agency=the_agency, name=team)
    else:
        the_team = None
    user = User(
        username=username or f"{role.value}-{next(_serial)}",
        role=role.value,
        agency=the_agency,
        team=the_team,
        is_active=is_active,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


def make_device(user: User, *, confirmed: bool = True) -> TOTPDevice:
    """The user's TOTP device (created when missing); compute codes with `code_for`."""
    device = TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=confirmed)
    return device


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    """The six-digit code an authenticator app shows for `device` (now, or at `at`)."""
    secret = base64.b32encode(device.bin_key).decode()
    totp = pyotp.TOTP(secret, digits=device.digits, interval=device.step)
    return totp.now() if at is None else totp.at(at)


def signed_in_client(client: Client, user: User) -> Client:
    """`client`, signed in as `user` with a fully verified session; returns it.

    For a role that needs a second factor, a confirmed TOTP device is created when the
    user has none and marked verified in the session, as `django_otp.login` does.
    """
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.needs_second_factor:
        device = make_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def token_client(agency: Agency, scopes: list[str], name: str = "test client") -> Client:
    """A test client that sends a real bearer token of `agency` with these scopes."""
    _, text = ApiToken.issue(name, scopes, agency)
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")
