"""Helpers for the audit, keys and exchange tests: a private node, people, tampering.

`node` gives a test its own data folder (checkpoint file) and keys folder, and a small
checkpoint interval; `signed_in` signs a user in with a verified second factor where the
role needs one (set `django_otp.DEVICE_ID_SESSION_KEY` as `django_otp.login` does).
To move to a shared fixture module later.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from haven.accounts.models import Agency, User
from haven.audit import dbguard
from haven.audit.services import record
from haven.web import node as node_module

__all__ = [
    "CHECKPOINT_EVERY",
    "append_entries",
    "make_user",
    "node",
    "raw_sql",
    "signed_in",
]

CHECKPOINT_EVERY = 5
_serial = itertools.count(1)


@pytest.fixture
def node(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """A node of the test's own: data folder (returned), keys, checkpoint every 5 entries."""
    settings.HAVEN = dataclasses.replace(
        settings.HAVEN,
        data_dir=tmp_path / "data",
        keys_dir=tmp_path / "keys",
        audit_checkpoint_every=CHECKPOINT_EVERY,
    )
    node_module.keyring.cache_clear()
    yield tmp_path / "data"
    node_module.keyring.cache_clear()


def append_entries(
    count: int,
    capture: Callable[..., Any],
    *,
    action: str = "test.event",
    **fields: Any,
) -> None:
    """Record `count` entries, running the on-commit file appends as a commit would.

    `capture` is pytest-django's `django_capture_on_commit_callbacks` fixture.
    """
    actor = fields.pop("actor", "system")
    with capture(execute=True):
        for number in range(count):
            record(action, actor=actor, detail={"n": number}, **fields)


def make_user(
    role: str,
    agency: str = "Test agency",
    username: str | None = None,
    password: str | None = None,
) -> User:
    """A user of `role`; without `password` it is unusable, which skips slow argon2 hashing
    (tests sign in with `signed_in`, not through the password form)."""
    the_agency, _ = Agency.objects.get_or_create(name=agency)
    return User.objects.create_user(
        username or f"{role}-{next(_serial)}",
        password=password,
        role=role,
        agency=the_agency,
    )


def signed_in(client: Client, user: User) -> Client:
    """`client` signed in as `user`, with the second factor verified when the role needs it."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def raw_sql(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL as a database administrator would: with the append-only triggers dropped.

    The triggers come back at the end (in the same transaction), as after a cover-up.
    """
    with dbguard.suspended(connection), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
