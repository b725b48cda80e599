"""The demo's flow: every known file (and its edits) is found, nothing else matches."""

from __future__ import annotations

import io
import json
from pathlib import Path

from haven.demo import build_demo
from haven.scan.runner import run_scan


def test_demo_finds_every_known_file_and_nothing_else(tmp_path: Path) -> None:
    corpus, bank, expected = build_demo(tmp_path, small=True)
    out, err = io.StringIO(), io.StringIO()
    status = run_scan(corpus, bank, workers=1, out=out, err=err)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    matched = {Path(r["path"]).name for r in records if r.get("matches")}
    assert matched == expected
    assert any(n.endswith("--rotate_90.png") for n in matched)  # found via a dihedral hash
    assert status == 1  # the deliberate non-media file is reported, not fatal
    assert "haven scan" in err.getvalue()
