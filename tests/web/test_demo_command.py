"""`make demo`'s command: with CI set it sets a node up and passes its smoke flow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_smoke_flow_sets_up_a_node_and_passes(tmp_path: Path) -> None:
    # The demo always makes its own SQLite node here, also during the PostgreSQL run.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HAVEN_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update({"HAVEN_DATA_DIR": str(tmp_path), "HAVEN_SECURE_COOKIES": "false", "CI": "1"})
    done = subprocess.run(
        [sys.executable, "-m", "haven.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo smoke flow passed" in done.stderr
    for role in ("administrator", "provider_analyst", "auditor", "trainer"):
        assert role in done.stdout
    assert "TOTP secret" in done.stdout and "password demo-" in done.stdout
    assert "demo ads: 300 synthetic ads in" in done.stdout and "/text/scan" in done.stderr
    assert (tmp_path / "haven.sqlite3").is_file()
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        ".lock",
        "django-secret",
        "master",
        "signing",
    ]
