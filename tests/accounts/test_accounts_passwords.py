"""Changing one's own password, and an administrator resetting someone's."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from tests.accounts.helpers import PASSWORD, make_user, signed_in_client

from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase 2026"


def test_a_person_changes_their_own_password_and_stays_signed_in(client: Client) -> None:
    person = make_user("trainer", password=PASSWORD)
    signed_in_client(client, person)
    answer = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert answer.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW) and person.password.startswith("argon2")
    assert client.get("/dashboard/").status_code == 200  # this session survives
    assert AuditEntry.objects.filter(
        action="auth.password_change", target_id=str(person.pk)
    ).exists()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("not my password", NEW, "old password was entered incorrectly"),
        (PASSWORD, "12345678901234", "entirely numeric"),
        (PASSWORD, "short", "too short"),
    ],
)
def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(
    client: Client, old: str, new: str, problem: str
) -> None:
    person = make_user("auditor", password=PASSWORD)
    signed_in_client(client, person)
    answer = client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )
    assert answer.status_code == 200 and problem in answer.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="auth.password_change").exists()


def test_an_administrator_resets_a_password_shown_once_and_old_sessions_end(
    client: Client,
) -> None:
    admin = make_user("administrator")
    person = make_user("provider_analyst", password=PASSWORD)
    theirs = signed_in_client(Client(), person)
    assert theirs.get("/dashboard/").status_code == 200
    answer = signed_in_client(client, admin).post(f"/accounts/users/{person.pk}/reset-password/")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    shown = re.search(r'id="new-password">([^<]+)<', answer.content.decode())
    assert shown is not None
    person.refresh_from_db()
    assert person.check_password(shown.group(1)) and not person.check_password(PASSWORD)
    assert theirs.get("/dashboard/").status_code == 302  # their old session has ended
    entry = AuditEntry.objects.get(action="user.reset_password")
    assert entry.target_id == str(person.pk) and entry.actor == f"user:{admin.pk}"
    assert shown.group(1) not in str(entry.detail)


def test_only_administrators_reset_passwords(client: Client) -> None:
    person = make_user("auditor", password=PASSWORD)
    answer = signed_in_client(client, make_user("supervisor")).post(
        f"/accounts/users/{person.pk}/reset-password/"
    )
    assert answer.status_code == 403
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
