"""Fixtures for the bank tests: agencies, principals of each kind, API tokens, a fresh matcher.

The process-wide matcher lives in memory across tests while each test's database is rolled
back, so every test starts with a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from tests.accounts.helpers import make_agency, token_client
from tests.banks.helpers import principal_of_role

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal
from haven.accounts.roles import Role
from haven.banks.matcher import reset_matcher


@pytest.fixture(autouse=True)
def _fresh_matcher() -> Iterator[None]:
    reset_matcher()
    yield
    reset_matcher()


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Hotline A")


@pytest.fixture
def other_agency(db: None) -> Agency:
    return make_agency("Hotline B")


@pytest.fixture
def analyst(agency: Agency) -> Principal:
    """An authority analyst: reads, writes and exports banks of their agency."""
    return principal_of_role(Role.AUTHORITY_ANALYST, agency)


@pytest.fixture
def reader(agency: Agency) -> Principal:
    """A provider analyst: reads banks and matches, never writes."""
    return principal_of_role(Role.PROVIDER_ANALYST, agency)


@pytest.fixture
def outsider(other_agency: Agency) -> Principal:
    """An authority analyst of another agency."""
    return principal_of_role(Role.AUTHORITY_ANALYST, other_agency)


ALL_SCOPES = ["hash", "match", "banks:read", "banks:write", "banks:export", "index:read"]


@pytest.fixture
def api(agency: Agency) -> Callable[..., Client]:
    """`api(scopes=...)`: a test client that sends a real bearer token of `agency`."""

    def make(scopes: list[str] | None = None, of: Agency | None = None) -> Client:
        return token_client(of or agency, scopes or ALL_SCOPES)

    return make
