"""Shared fixtures: where Meta's PDQ reference data lies (../shared beside the checkout).

The test node's environment (a throwaway HAVEN_DATA_DIR) is set by `tests/environment.py`,
a plugin loaded before Django reads its settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE_DIR = Path(
    os.environ.get(
        "HAVEN_REFERENCE_DIR",
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdq-reference",
    )
)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not (REFERENCE_DIR / "expected.csv").is_file():
        pytest.skip(f"PDQ reference data not found at {REFERENCE_DIR} (set HAVEN_REFERENCE_DIR)")
    return REFERENCE_DIR
