"""The API against its own OpenAPI document: generated requests, no 5xx, answers as documented.

Schemathesis reads `/api/openapi.json` from the WSGI application (in process, no server)
and sends a bounded number of generated requests to every operation with a token holding
every scope: valid ones and, deliberately, malformed ones (bad hashes, wrong types,
missing fields). Every answer must be below 500 and match what the document promises:
status code, content type, headers and body schema; an operation that declares auth must
refuse a request without it.

A few fast tests check the document itself: served without a token, listing every route
under /api/v1/, and documenting the one error schema for 400/401/403/404.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from haven.accounts.models import Agency, ApiToken
from haven.accounts.roles import TOKEN_SCOPES

# Bounded: at most this many generated requests per operation in the fuzzing phase, on
# top of schemathesis's explicit examples and its coverage cases (boundaries, wrong types).
# A fixed seed makes CI runs repeatable; set HAVEN_FUZZ_EXAMPLES / HAVEN_FUZZ_SEED for a
# longer or different exploration by hand.
MAX_EXAMPLES = int(os.environ.get("HAVEN_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("HAVEN_FUZZ_SEED", "3"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "cache": {"enabled": False},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            # Unknown query parameters and body fields are ignored, as HTTP APIs commonly
            # do; sending them is not "invalid data" this API promises to refuse.
            "allow-extra-parameters": False,
        },
    }
)

schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", get_wsgi_application(), config=CONFIG
).include(path_regex="^/api/v1/")

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture
def seeded(db: None) -> dict[str, Any]:
    """A live token with every scope, and a bank with an entry for requests to find."""
    from haven.banks.models import Bank, BankEntry

    agency = Agency.objects.create(name="Schemathesis agency")
    bank = Bank.objects.create(name="Fuzz bank", agency=agency)
    entry = BankEntry.objects.create(
        bank=bank, signal_type="pdq", hash=bytes(range(32)), external_id="fuzz-1"
    )
    _, text = ApiToken.issue("schemathesis", sorted(TOKEN_SCOPES), agency)
    return {
        "headers": {"Authorization": f"Bearer {text}"},
        "path": {"bank_id": bank.pk, "entry_id": entry.pk},
    }


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Keep the test's database connection across requests made straight to the WSGI app.

    Django closes "old" connections at each request's start and end; inside a test's
    transaction (autocommit off) that means closing the very connection the test runs in
    (PostgreSQL: "the connection is closed"). Django's own test client unhooks this for
    its requests; schemathesis calls the WSGI application directly, so do it here.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(seeded: dict[str, Any], in_process_requests: None) -> dict[str, str]:
    headers: dict[str, str] = seeded["headers"]
    return headers


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(
    case: Any, bearer: dict[str, str]
) -> None:
    case.call_and_validate(headers=bearer, checks=CHECKS)


# --- malformed bodies, one by one ----------------------------------------------------

# JSON that is valid JSON but not the object every body here is documented to be.
NOT_OBJECTS = ["[]", "[null, null]", '"text"', "42", "null", "true"]


@pytest.mark.django_db
def test_a_json_body_that_is_not_an_object_is_refused(
    client: Client, document: dict[str, Any], seeded: dict[str, Any]
) -> None:
    """Bad input gets a clear 400, never a 200 that ignored it (schemathesis's negative
    cases found `[null, null]` accepted as "no fields given")."""
    problems = []
    for path, method, operation in _operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        url = path.format(**seeded["path"])
        for body in NOT_OBJECTS:
            response = client.generic(
                method, url, body, content_type="application/json", headers=seeded["headers"]
            )
            if response.status_code != 400:
                problems.append(f"{method} {path} with {body}: {response.status_code}")
            elif response.json()["error"]["status"] != 400:
                problems.append(f"{method} {path} with {body}: not the error schema")
    assert not problems, "\n".join(problems)


# --- the document itself ---------------------------------------------------------------

ERROR_STATUSES = ("400", "401", "403", "404")


def _api_routes() -> set[str]:
    """Every URL pattern under /api/v1/ as an OpenAPI path (`/api/v1/banks/{bank_id}`)."""
    found = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
                found.add("/" + re.sub(r"<(?:[^>:]+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver(), "")
    return found


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200, "the OpenAPI document must be public"
    assert response["Content-Type"].startswith("application/json")
    data: dict[str, Any] = response.json()
    return data


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method.upper(), operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.django_db
def test_the_document_is_public_and_lists_every_api_route(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert paths, "the API documents no operation"
    assert all(path.startswith("/api/v1/") for path in paths), sorted(paths)
    routes = _api_routes()
    assert routes == paths, {
        "routes not documented": sorted(routes - paths),
        "documented, no route": sorted(paths - routes),
    }


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicated, f"duplicated keys {duplicated} in an OpenAPI object with keys {keys}"
    return dict(pairs)


@pytest.mark.django_db
def test_the_document_has_no_duplicated_key(client: Client) -> None:
    """JSON parsers keep the last of two equal keys, YAML parsers (Swagger UI's) refuse the
    document: e.g. a response status given once as 200 and once as "200"."""
    json.loads(client.get("/api/openapi.json").content, object_pairs_hook=_no_duplicate_keys)


@pytest.mark.django_db
def test_every_operation_documents_the_error_schema(document: dict[str, Any]) -> None:
    problems = []
    for path, method, operation in _operations(document):
        responses = operation.get("responses", {})
        takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
        protected = bool(operation.get("security", document.get("security")))
        wanted = [
            status
            for status, applies in zip(
                ERROR_STATUSES, (takes_input, protected, protected, "{" in path), strict=True
            )
            if applies
        ]
        for status in wanted:
            if status not in responses:
                problems.append(f"{method} {path}: no {status} response documented")
                continue
            content = responses[status].get("content", {}).get("application/json")
            if content is None:
                problems.append(f"{method} {path} {status}: not application/json")
                continue
            body = _resolve(document, content["schema"])
            error = _resolve(document, body.get("properties", {}).get("error", {}))
            fields = set(error.get("properties", {}))
            if not {"status", "code", "message"} <= fields:
                problems.append(f"{method} {path} {status}: not the error schema ({fields})")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_an_unauthenticated_request_gets_the_documented_error_body(
    client: Client, document: dict[str, Any]
) -> None:
    protected = [
        (path, method)
        for path, method, operation in _operations(document)
        if operation.get("security", document.get("security")) and "{" not in path
    ]
    assert protected, "no protected operation without path parameters to try"
    for path, method in protected:
        response = client.generic(method, path)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer")
        error = response.json()["error"]
        assert error["status"] == 401
        assert error["code"] == "unauthenticated"
