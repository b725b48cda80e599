"""Fixtures for the ad tests: agencies, principals, a small synthetic corpus ingested.

The corpus comes from `haven.synth.ads` (benign wording, fictional number ranges) and is
small enough to ingest in a second or two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pytest
from django.test import Client
from tests.accounts.helpers import make_agency, token_client
from tests.banks.helpers import principal_of_role

from haven.accounts.models import Agency
from haven.accounts.permissions import Principal, system_principal
from haven.accounts.roles import Role
from haven.ads import services
from haven.ads.reader import parse_row
from haven.synth.ads import ad_record, generate_ads


@lru_cache(maxsize=4)
def corpus(count: int = 300, seed: int = 5) -> tuple[dict[str, Any], ...]:
    """Synthetic ads as the generator writes them to JSON Lines (with their truth)."""
    return tuple(ad_record(ad) for ad in generate_ads(count, seed=seed))


def jsonl(rows: Any) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def ingest_rows(
    principal: Principal, rows: Any, *, link: bool = True, region: str = "US"
) -> services.IngestReport:
    outcomes = [(n, parse_row(row, default_region=region)) for n, row in enumerate(rows, 1)]
    return services.ingest_ads(principal, outcomes, source_name="test.jsonl", link=link)


@pytest.fixture
def agency(db: None) -> Agency:
    return make_agency("Hotline A")


@pytest.fixture
def other_agency(db: None) -> Agency:
    return make_agency("Hotline B")


@pytest.fixture
def system(agency: Agency) -> Principal:
    return system_principal(agency.pk, "test")


@pytest.fixture
def analyst(agency: Agency) -> Principal:
    return principal_of_role(Role.AUTHORITY_ANALYST, agency)


@pytest.fixture
def outsider(other_agency: Agency) -> Principal:
    return principal_of_role(Role.AUTHORITY_ANALYST, other_agency)


@pytest.fixture
def ingested(system: Principal) -> services.IngestReport:
    return ingest_rows(system, corpus())


@pytest.fixture
def api(agency: Agency) -> Callable[..., Client]:
    """`api(scopes=...)`: a test client that sends a real bearer token of `agency`."""

    def make(scopes: list[str] | None = None) -> Client:
        return token_client(agency, scopes or ["text:scan"])

    return make
