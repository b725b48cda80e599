"""Fixtures for the report tests: a sender agency with an intake token, a receiver."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from tests.accounts.helpers import make_agency, token_client

from haven.accounts.models import Agency


@pytest.fixture
def sender(db: None) -> Agency:
    return make_agency("Example Ads (synthetic provider)")


@pytest.fixture
def intake(sender: Agency) -> Callable[..., Client]:
    """`intake(scopes=..., of=...)`: a client with a token the authority issued a sender."""

    def make(scopes: list[str] | None = None, of: Agency | None = None) -> Client:
        return token_client(of or sender, scopes or ["reports:submit"], "sender")

    return make
