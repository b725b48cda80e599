"""API tokens: hashed at rest, expiring, revocable, and scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Router
from ninja.testing import TestClient
from tests.accounts.helpers import make_agency

from haven.accounts import services
from haven.accounts.api_auth import TokenAuth
from haven.accounts.models import ApiToken
from haven.accounts.permissions import PermissionDenied, check, principal_of
from haven.accounts.roles import TOKEN_SCOPES
from haven.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

BY = services.CLI_ACTOR


def _probe_client() -> TestClient:
    """A tiny API behind the real bearer authentication, reporting what the token may do."""
    router = Router(auth=TokenAuth())

    @router.get("/probe")
    def probe(request):  # type: ignore[no-untyped-def]
        principal = principal_of(request)
        try:
            check(principal, "banks:write")
            may_write = True
        except PermissionDenied:
            may_write = False
        assert principal is not None
        return {"permissions": sorted(principal.permissions), "may_write": may_write}

    return TestClient(router)


def _everything_in_the_database() -> str:
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_token_is_stored_hashed() -> None:
    token, text = services.issue_token("scanner", ["match"], make_agency(), BY)
    secret = text.split("_", 2)[2]
    assert text.startswith(f"hvn_{token.key}_")
    assert len(secret) >= 40
    dump = _everything_in_the_database()
    assert token.key in dump  # the row is there...
    assert secret not in dump  # ...but not the secret, anywhere
    assert text not in dump
    assert ApiToken.find(text) == token


def test_wrong_secret_unknown_key_and_garbage_find_nothing() -> None:
    _, text = services.issue_token("scanner", ["match"], make_agency(), BY)
    assert ApiToken.find(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    assert ApiToken.find(f"hvn_{'0' * 16}_{text.split('_', 2)[2]}") is None
    assert ApiToken.find("") is None
    assert ApiToken.find("Bearer " + text) is None


def test_expired_token_is_refused() -> None:
    token, text = services.issue_token("short", ["hash"], make_agency(), BY, expires_days=1)
    assert token.expires_at is not None
    assert timedelta(hours=23) < token.expires_at - timezone.now() <= timedelta(days=1)
    assert ApiToken.find(text) == token and token.status == "active"
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiToken.find(text) is None
    token.refresh_from_db()
    assert token.status == "expired"


def test_never_expiring_token() -> None:
    token, text = services.issue_token("forever", ["hash"], make_agency(), BY, expires_days=None)
    assert token.expires_at is None and ApiToken.find(text) == token


def test_revoked_token_is_refused_and_audited() -> None:
    token, text = services.issue_token("scanner", ["match"], make_agency(), BY)
    assert services.revoke_token(token, BY)
    assert ApiToken.find(text) is None
    token.refresh_from_db()
    assert token.status == "revoked"
    assert not services.revoke_token(token, BY)  # once only
    actions = list(
        AuditEntry.objects.filter(target_type="token", target_id=str(token.pk)).values_list(
            "action", "actor"
        )
    )
    assert actions == [("token.create", "system:cli"), ("token.revoke", "system:cli")]


def test_scopes_are_checked() -> None:
    with pytest.raises(ValueError, match="valid scopes: hash, match"):
        services.parse_scopes(["users:manage"])
    with pytest.raises(ValueError, match="at least one scope"):
        services.parse_scopes([])
    assert services.parse_scopes(["match", "hash", "match"]) == ["hash", "match"]


def test_scopes_limit_api_access() -> None:
    api = _probe_client()
    agency = make_agency()
    _, reader = services.issue_token("reader", ["hash", "match"], agency, BY)
    _, writer = services.issue_token("writer", ["banks:write"], agency, BY)

    answer = api.get("/probe", headers={"Authorization": f"Bearer {reader}"})
    assert answer.status_code == 200
    assert answer.json() == {"permissions": ["hash", "match"], "may_write": False}
    answer = api.get("/probe", headers={"Authorization": f"Bearer {writer}"})
    assert answer.json() == {"permissions": ["banks:write"], "may_write": True}


def test_a_scope_smuggled_into_the_row_grants_nothing() -> None:
    api = _probe_client()
    token, text = services.issue_token("sneaky", ["hash"], make_agency(), BY)
    ApiToken.objects.filter(pk=token.pk).update(scopes=["hash", "users:manage", "banks:write"])
    answer = api.get("/probe", headers={"Authorization": f"Bearer {text}"})
    # banks:write is a token scope (granted once in the row); users:manage never is.
    assert answer.json()["permissions"] == ["banks:write", "hash"]
    assert "users:manage" not in TOKEN_SCOPES


def test_api_refuses_missing_revoked_and_expired_tokens() -> None:
    api = _probe_client()
    token, text = services.issue_token("scanner", ["match"], make_agency(), BY)
    assert api.get("/probe").status_code == 401
    assert api.get("/probe", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert api.get("/probe", headers={"Authorization": f"Bearer {text}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    services.revoke_token(token, BY)
    assert api.get("/probe", headers={"Authorization": f"Bearer {text}"}).status_code == 401


_token_like = st.builds(
    lambda key, secret: f"hvn_{key}_{secret}",
    st.text(alphabet="0123456789abcdefxyz_", min_size=0, max_size=20),
    st.text(min_size=0, max_size=80),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(max_size=300), _token_like, st.binary().map(repr)))
def test_find_never_raises_on_arbitrary_text(text: str) -> None:
    # Read-only, so the database state shared across examples does not matter.
    assert ApiToken.find(text) is None
