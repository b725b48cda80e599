"""The machinery of the permission matrix: read the expectation file, walk the URL tree,
classify responses, fingerprint the database.

Kept apart from the test module so the test reads as the table it is.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.db import connection
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse

__all__ = [
    "API_PRINCIPALS",
    "EXPECTATIONS",
    "OUTCOMES",
    "Case",
    "api_operations",
    "classify",
    "database_fingerprint",
    "fill_route",
    "load_cases",
    "load_file",
    "project_routes",
]

EXPECTATIONS = Path(__file__).with_name("expectations.toml")

# What a response means, from the outside.
OUTCOMES = {
    "allow": "2xx, or a 3xx that is not a redirect to sign-in",
    "login": "a redirect to the sign-in page (pages) or 401 (API)",
    "deny": "403",
    "hidden": "404",
    "not_allowed": "405: the method is not accepted here",
    "invalid": "400: let in, but the request itself was refused",
}

# Who calls the API: nobody, a signed-in person without a token, and tokens.
API_PRINCIPALS = (
    "anonymous",
    "session",  # an administrator's browser session, no token: the API wants tokens
    "token_none",  # a live token with no scope at all
    "token_without",  # every scope but the one the operation needs
    "token_only",  # exactly the scope the operation needs
    "token_full",  # every scope a token may hold
    "token_revoked",  # every scope, revoked
    "token_expired",  # every scope, expired
)

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Case:
    """One row of the file: a URL (route + kwargs), a method, and who gets what."""

    kind: str  # "page" or "api"
    route: str
    method: str
    kwargs: dict[str, Any]
    expect: dict[str, str]
    label: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    files: dict[str, str] = field(default_factory=dict)
    # API: the token scopes the operation needs, its own first (`scope = "x"` or a list).
    scopes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        label = f" [{self.label}]" if self.label else ""
        return f"{self.method} /{self.route}{label}"


def load_file(path: Path = EXPECTATIONS) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_cases(data: dict[str, Any]) -> list[Case]:
    cases = []
    api_default = dict(data.get("api_default", {}).get("expect", {}))
    for kind in ("page", "api"):
        for row in data.get(kind, []):
            expect = dict(row.get("expect", {}))
            if kind == "api":
                expect = {**api_default, **expect}
            cases.append(
                Case(
                    kind=kind,
                    route=row["route"],
                    method=row.get("method", "GET").upper(),
                    kwargs=dict(row.get("kwargs", {})),
                    expect=expect,
                    label=row.get("label", ""),
                    data=dict(row.get("data", {})),
                    json=row.get("json"),
                    files=dict(row.get("files", {})),
                    scopes=_scopes(row.get("scope", ())),
                )
            )
    return cases


def _scopes(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
        else:
            yield route, entry


def project_routes() -> set[str]:
    """Every URL pattern of the project, as its full route string (`banks/<int:pk>/`)."""
    return {route for route, _ in _walk(get_resolver())}


def api_operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    """(route, METHOD) for every operation the OpenAPI document lists."""
    found = set()
    for path, item in openapi.get("paths", {}).items():
        for method in item:
            if method.lower() in {"get", "post", "put", "patch", "delete"}:
                found.add((path, method.upper()))
    return found


def openapi_path(route: str) -> str:
    """`api/v1/banks/<int:bank_id>` → `/api/v1/banks/{bank_id}`."""
    return "/" + _PARAM.sub(lambda m: "{" + m.group("name") + "}", route)


def fill_route(route: str, values: dict[str, Any]) -> str:
    """The URL for `route` with its parameters replaced by `values` (all must be given)."""
    names = {m.group("name") for m in _PARAM.finditer(route)}
    if names != set(values):
        raise AssertionError(
            f"route {route!r} takes {sorted(names)}, the file gives {sorted(values)}"
        )
    return "/" + _PARAM.sub(lambda m: str(values[m.group("name")]), route)


def classify(response: HttpResponse) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response.get("Location", "")).path
        return "login" if target == reverse("accounts:login") else "allow"
    if 200 <= status < 300:
        return "allow"
    return {400: "invalid", 401: "login", 403: "deny", 404: "hidden", 405: "not_allowed"}.get(
        status, f"status {status}"
    )


# Fields that change when someone merely *tries* something: not a change of state.
_VOLATILE = {"last_login", "last_used_at", "throttling_failure_timestamp", "last_t"}
_VOLATILE |= {"throttling_failure_count", "second_factor_failures"}
# Apps whose rows are not the node's state (or are expected to grow on any attempt).
_SKIP_APPS = {"audit", "sessions", "axes", "contenttypes", "auth", "admin", "messages"}


def database_fingerprint() -> dict[str, str]:
    """A digest per table of every state row a request might change (audit, sessions aside).

    Plain SQL, not the ORM: it runs twice in most of the matrix's hundreds of tests.
    """
    found = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            meta = model._meta
            if meta.app_label in _SKIP_APPS or meta.proxy or not meta.managed:
                continue
            columns = sorted(f.column for f in meta.concrete_fields if f.attname not in _VOLATILE)
            cursor.execute(
                f"SELECT {', '.join(map(quote, columns))} FROM {quote(meta.db_table)} "
                f"ORDER BY {quote(meta.pk.column)}"
            )
            digest = hashlib.sha256()
            for row in cursor.fetchall():
                cells = (bytes(c) if isinstance(c, memoryview) else c for c in row)
                digest.update(repr(tuple(cells)).encode())
            found[meta.label] = digest.hexdigest()
    return found
