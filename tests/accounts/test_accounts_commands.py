"""`haven createuser` and `haven token`: the contracts other tools script against."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.accounts.helpers import PASSWORD

from haven.accounts.management.commands import createuser as createuser_module
from haven.accounts.models import Agency, ApiToken, User
from haven.accounts.roles import DEFAULT_TOKEN_SCOPES, TOKEN_SCOPES
from haven.audit.models import AuditEntry

TOKEN_LINE = re.compile(r"hvn_[0-9a-f]{16}_[A-Za-z0-9_-]+")
HAVEN = Path(sys.executable).with_name("haven")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _createuser(*args: str, stdin: str | io.StringIO = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = {"stdin": io.StringIO(stdin) if isinstance(stdin, str) else stdin}
    call_command("createuser", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _token(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# ---- createuser through call_command ----------------------------------------------------


@pytest.mark.django_db
def test_createuser_with_password_on_stdin() -> None:
    out, err = _createuser(
        "alice",
        "--role",
        "case_worker",
        "--password-stdin",
        "--email",
        "a@example.org",
        stdin=PASSWORD + "\n",
    )
    user = User.objects.get(username="alice")
    assert user.password.startswith("argon2") and user.check_password(PASSWORD)
    assert user.role == "case_worker" and user.email == "a@example.org"
    # The default agency is the node's name, created on the way.
    assert user.agency.name == settings.HAVEN.node_name
    assert "created user alice (Case worker)" in out
    assert "second factor" in out
    assert "created agency" in err
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.actor == "system:cli" and entry.target_id == str(user.pk)
    assert AuditEntry.objects.get(action="agency.create").actor == "system:cli"


@pytest.mark.django_db
def test_createuser_with_agency_and_team_and_a_role_without_totp() -> None:
    Agency.objects.create(name="Hotline")
    out, err = _createuser(
        "bob",
        "--role",
        "auditor",
        "--agency",
        "hotline",
        "--team",
        "Review",
        "--password-stdin",
        stdin=PASSWORD,
    )
    user = User.objects.get(username="bob")
    assert user.agency.name == "Hotline" and user.team is not None and user.team.name == "Review"
    assert "second factor" not in out
    assert "created team" in err and "created agency" not in err


@pytest.mark.django_db
def test_createuser_prompts_twice_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(createuser_module.getpass, "getpass", lambda prompt: next(answers))
    _createuser("carol", "--role", "trainer", stdin=_Terminal())
    assert User.objects.get(username="carol").check_password(PASSWORD)


@pytest.mark.django_db
def test_createuser_prompt_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(createuser_module.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="differ") as caught:
        _createuser("carol", "--role", "trainer", stdin=_Terminal())
    assert caught.value.returncode == 1
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "stdin", "message", "status"),
    [
        (["dave", "--role", "wizard", "--password-stdin"], PASSWORD, "unknown role", 2),
        (["dave", "--role", "auditor"], "", "pipe it with --password-stdin", 2),
        (["dave", "--role", "auditor", "--password-stdin"], "\n", "no password", 2),
        (["dave", "--role", "auditor", "--password-stdin"], "short\n", "too short", 1),
        (["dave", "--role", "auditor", "--password-stdin"], "123456789012345\n", "numeric", 1),
        (["da ve", "--role", "auditor", "--password-stdin"], PASSWORD, "not valid", 2),
    ],
)
def test_createuser_errors(args: list[str], stdin: str, message: str, status: int) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        _createuser(*args, stdin=stdin)
    assert caught.value.returncode == status
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createuser_unknown_role_lists_the_roles() -> None:
    with pytest.raises(CommandError) as caught:
        _createuser("dave", "--role", "wizard", "--password-stdin", stdin=PASSWORD)
    assert "administrator" in str(caught.value) and "case_worker" in str(caught.value)


@pytest.mark.django_db
def test_createuser_refuses_an_existing_name() -> None:
    _createuser("erin", "--role", "auditor", "--password-stdin", stdin=PASSWORD)
    with pytest.raises(CommandError, match="already exists") as caught:
        _createuser("ERIN", "--role", "auditor", "--password-stdin", stdin=PASSWORD)
    assert caught.value.returncode == 1


# ---- token through call_command ---------------------------------------------------------


@pytest.mark.django_db
def test_token_create_prints_only_the_token() -> None:
    out, err = _token("create", "scanner", "--scope", "match", "--scope", "banks:read")
    lines = out.splitlines()
    assert len(lines) == 1 and TOKEN_LINE.fullmatch(lines[0])
    token = ApiToken.find(lines[0])
    assert token is not None
    assert token.scopes == ["banks:read", "match"]
    assert token.expires_at is not None
    assert "shown only now" in err and lines[0] not in err
    assert AuditEntry.objects.get(action="token.create").actor == "system:cli"


@pytest.mark.django_db
def test_token_create_defaults_and_never() -> None:
    out, _ = _token("create", "default", "--expires-days", "never", "--agency", "Platform")
    token = ApiToken.find(out.strip())
    assert token is not None
    assert token.scopes == sorted(DEFAULT_TOKEN_SCOPES)
    assert token.expires_at is None and token.agency.name == "Platform"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "x", "--scope", "users:manage"], "valid scopes: " + ", ".join(TOKEN_SCOPES)),
        (["create", "x", "--expires-days", "0"], "expires-days"),
        (["create", "x", "--expires-days", "soon"], "expires-days"),
        (["create", "  "], "empty"),
    ],
)
def test_token_create_errors(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)) as caught:
        _token(*args)
    assert caught.value.returncode == 2
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_list_and_revoke() -> None:
    text, _ = _token("create", "first")
    second, _ = _token("create", "second")
    listing, _ = _token("list")
    assert "first" in listing and "second" in listing and "active" in listing
    assert text.strip() not in listing and text.strip().split("_", 2)[2] not in listing

    _, err = _token("revoke", "first")
    assert "revoked" in err
    assert ApiToken.find(text.strip()) is None
    key = ApiToken.find(second.strip()).key  # type: ignore[union-attr]
    _token("revoke", key)
    assert ApiToken.find(second.strip()) is None
    assert "revoked" in _token("list")[0]
    assert AuditEntry.objects.filter(action="token.revoke", actor="system:cli").count() == 2

    with pytest.raises(CommandError, match="no token") as caught:
        _token("revoke", "nothing-like-this")
    assert caught.value.returncode == 1


@pytest.mark.django_db
def test_token_revoke_refuses_an_ambiguous_name() -> None:
    _token("create", "twin")
    _token("create", "twin")
    with pytest.raises(CommandError, match="revoke by key"):
        _token("revoke", "twin")
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2


# ---- the real `haven` command, in its own node -------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["HAVEN_DATA_DIR"] = str(tmp_path_factory.mktemp("haven-cli-node"))
    done = subprocess.run(
        [str(HAVEN), "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    yield env


def _haven(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HAVEN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_cli_token_create_prints_the_token_alone(node: dict[str, str]) -> None:
    done = _haven(node, "token", "create", "ci", "--scope", "match")
    assert done.returncode == 0, done.stderr
    assert TOKEN_LINE.fullmatch(done.stdout.rstrip("\n"))
    assert done.stdout.count("\n") == 1
    assert "shown only now" in done.stderr

    listing = _haven(node, "token", "list")
    assert listing.returncode == 0 and "ci" in listing.stdout
    assert done.stdout.strip() not in listing.stdout


def test_cli_errors_are_one_line_without_traceback(node: dict[str, str]) -> None:
    done = _haven(node, "token", "create", "ci", "--scope", "nope")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "valid scopes" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

    done = _haven(node, "createuser", "zed", "--role", "auditor")  # stdin is not a terminal
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--password-stdin" in done.stderr


def test_cli_createuser_with_password_stdin(node: dict[str, str]) -> None:
    done = _haven(
        node,
        "createuser",
        "yves",
        "--role",
        "administrator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created user yves (Administrator)" in done.stdout
    assert "second factor" in done.stdout
    again = _haven(
        node, "createuser", "yves", "--role", "auditor", "--password-stdin", stdin=PASSWORD
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
