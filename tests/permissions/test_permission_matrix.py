"""Every URL, every role: the outcome must be what `expectations.toml` says.

The expectation file is written by hand and read only here; the code never imports it
and it never imports the code's permission table, so a change to who may do what has to
be made twice, on purpose. The file must list every URL pattern of the project (and
every API operation of the OpenAPI document), and nothing that no longer exists.

Pages are requested as "anonymous" and as a user of each role (agency A); API operations
without a token, with a browser session, and with tokens holding no scope, every scope but
the one needed, exactly it, all of them, and dead (revoked, expired) ones. URLs with
agency B's records check reach: 404, never 403, for whoever has the permission but not
the reach. A request that is not allowed must change nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import resolve
from PIL import Image, ImageDraw
from tests.accounts.helpers import signed_in_client
from tests.permissions.matrix import (
    API_PRINCIPALS,
    OUTCOMES,
    Case,
    api_operations,
    classify,
    database_fingerprint,
    fill_route,
    load_cases,
    load_file,
    openapi_path,
    project_routes,
)
from tests.permissions.world import World, build_world, issue_token

from haven.accounts.roles import TOKEN_SCOPES, Role

DATA = load_file()
CASES = load_cases(DATA)
FULL_SCOPES: list[str] = list(DATA["api_tokens"]["full_scopes"])
PAGE_PRINCIPALS = ("anonymous", *(role.value for role in Role))


def _params() -> list[Any]:
    params = []
    for case in CASES:
        principals = API_PRINCIPALS if case.kind == "api" else PAGE_PRINCIPALS
        for principal in principals:
            params.append(pytest.param(case, principal, id=f"{case.id} as {principal}"))
    return params


# --- the file itself -------------------------------------------------------------------


def test_file_lists_every_route_and_no_stale_one() -> None:
    listed = {case.route for case in CASES}
    existing = project_routes()
    missing = sorted(existing - listed)
    stale = sorted(listed - existing)
    assert not missing, f"URL patterns with no row in expectations.toml: {missing}"
    assert not stale, f"rows in expectations.toml for URL patterns that do not exist: {stale}"


def test_file_lists_every_api_operation(client: Client) -> None:
    document = client.get("/api/openapi.json").json()
    documented = api_operations(document)
    listed = {
        (openapi_path(case.route), case.method)
        for case in CASES
        if case.kind == "api" and openapi_path(case.route) in document.get("paths", {})
    }
    missing = sorted(documented - listed)
    assert not missing, f"API operations with no row in expectations.toml: {missing}"


def test_every_row_names_every_principal_with_a_known_outcome() -> None:
    problems = []
    ids = [case.id for case in CASES]
    problems += [f"{i}: two rows with this id (add a label)" for i in ids if ids.count(i) > 1]
    for case in CASES:
        principals = set(API_PRINCIPALS if case.kind == "api" else PAGE_PRINCIPALS)
        if set(case.expect) != principals:
            extra, lacking = set(case.expect) - principals, principals - set(case.expect)
            problems.append(f"{case.id}: extra {sorted(extra)}, missing {sorted(lacking)}")
        unknown = {value for value in case.expect.values() if value not in OUTCOMES}
        if unknown:
            problems.append(f"{case.id}: unknown outcomes {sorted(unknown)}")
        if case.kind == "api" and not set(case.scopes) <= set(FULL_SCOPES):
            problems.append(f"{case.id}: scopes {case.scopes} are not all token scopes")
    assert not problems, "\n".join(problems)


def test_full_scopes_are_every_token_scope() -> None:
    """`token_full` must hold every scope a token can have, or it proves nothing."""
    assert sorted(FULL_SCOPES) == sorted(TOKEN_SCOPES)


def test_other_agency_records_are_covered() -> None:
    """Every route taking a record id has a row with agency B's record (a reach check)."""
    not_scoped = set(DATA["reach"]["not_scoped"])
    with_ids = {case.route for case in CASES if case.kwargs} - not_scoped
    with_b = {
        case.route
        for case in CASES
        if any(str(value).split(".")[0].endswith("_b") for value in case.kwargs.values())
    }
    assert not sorted(with_ids - with_b), (
        f"routes with ids but no other-agency row: {sorted(with_ids - with_b)}"
    )


# --- the instruments: they must be able to see what they look for -----------------------


@pytest.mark.django_db
def test_the_fingerprint_sees_a_change_and_ignores_a_read(world: World, client: Client) -> None:
    from haven.banks.models import Bank

    signed_in_client(client, world.users[Role.AUDITOR.value])
    before = database_fingerprint()
    assert client.get(f"/banks/{world.records['bank_a'].pk}/").status_code == 200
    assert database_fingerprint() == before
    Bank.objects.filter(pk=world.records["bank_b"].pk).update(enabled=False)
    after = database_fingerprint()
    assert [label for label in before if after[label] != before[label]] == ["banks.Bank"]


@pytest.mark.django_db
def test_classify_tells_a_sign_in_redirect_from_another(client: Client) -> None:
    assert classify(client.get("/dashboard/")) == "login"
    assert classify(client.get("/healthz")) == "allow"
    assert classify(client.get("/api/v1/banks")) == "login"
    assert classify(client.get("/no-such-page/")) == "hidden"


# --- the matrix -----------------------------------------------------------------------


def _png() -> bytes:
    """A benign generated image: shapes on a plain background."""
    image = Image.new("RGB", (96, 96), (240, 230, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 60, 50), fill=(30, 90, 160))
    draw.ellipse((40, 40, 90, 90), fill=(200, 60, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_UPLOADS = {
    "png": lambda: SimpleUploadedFile("shapes.png", _png(), content_type="image/png"),
    "hashes": lambda: SimpleUploadedFile(
        "list.csv", b"hash,id\n" + b"ab" * 32 + b",matrix-1\n", content_type="text/csv"
    ),
    "ads": lambda: SimpleUploadedFile(
        "ads.jsonl",
        b'{"id": "matrix-ad", "text": "Synthetic ad. Call 202 555 0142", "synthetic": true}\n',
        content_type="application/x-ndjson",
    ),
}


def _token_scopes(case: Case, principal: str) -> list[str]:
    """What the principal's token holds; `token_without` lacks the operation's own scope
    (the first listed) and keeps any other it needs, so it fails for that scope alone."""
    own = case.scopes[:1]
    return {
        "token_none": [],
        "token_without": [s for s in FULL_SCOPES if s not in own],
        "token_only": list(case.scopes),
    }.get(principal, FULL_SCOPES)


def _sign_in(case: Case, principal: str, world: World, client: Client) -> dict[str, str]:
    """Make `client` act as `principal`; returns the headers its requests need."""
    if case.kind == "page" and principal != "anonymous":
        signed_in_client(client, world.users[principal])
    elif principal == "session":
        signed_in_client(client, world.users[Role.ADMINISTRATOR.value])
    elif principal.startswith("token_"):
        token = issue_token(world, principal, _token_scopes(case, principal))
        return {"Authorization": f"Bearer {token}"}
    return {}


def _request(case: Case, world: World, client: Client, headers: dict[str, str]) -> Any:
    url = fill_route(case.route, world.resolve(case.kwargs))
    match = resolve(url.split("?")[0])
    assert match.route == case.route, f"{url} resolves to {match.route!r}, not {case.route!r}"
    data: dict[str, Any] = world.resolve(case.data)
    if case.files:
        data = {**data, **{name: _UPLOADS[kind]() for name, kind in case.files.items()}}
        return client.generic("POST", url, **_multipart(data), headers=headers)
    if case.json is not None:
        body = json.dumps(world.resolve(case.json))
        return client.generic(
            case.method, url, body, content_type="application/json", headers=headers
        )
    if case.method == "GET":
        return client.get(url, headers=headers)
    if case.method == "POST":
        return client.post(url, data, headers=headers)
    return client.generic(case.method, url, headers=headers)


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The records, built once for the module inside a transaction rolled back at its end.

    Each test runs in a savepoint within it (pytest-django's per-test transaction), so what
    a test changes is undone before the next, as with Django's `setUpTestData`.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        built = build_world()
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "principal"), _params())
def test_matrix(case: Case, principal: str, world: World, client: Client) -> None:
    headers = _sign_in(case, principal, world, client)
    before = database_fingerprint()
    response = _request(case, world, client, headers)
    outcome = classify(response)
    expected = case.expect[principal]
    assert outcome == expected, (
        f"{case.id} as {principal}: expected {expected}, got {outcome} "
        f"(HTTP {response.status_code} {response.get('Location', '')})"
    )
    assert response.status_code < 500
    if expected != "allow":
        after = database_fingerprint()
        changed = sorted(label for label in before if after.get(label) != before[label])
        assert not changed, f"a refused {case.method} changed {changed}"
    if case.kind == "api" and expected in {"login", "deny", "hidden"}:
        error = response.json()["error"]
        assert error["status"] == response.status_code
        assert error["code"] and error["message"]
