"""Fixtures for detection: a fresh matcher per test (its index outlives the test database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from haven.banks.matcher import reset_matcher


@pytest.fixture(autouse=True)
def _fresh_matcher() -> Iterator[None]:
    reset_matcher()
    yield
    reset_matcher()
