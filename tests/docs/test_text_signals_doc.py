"""The example in docs/text-signals.md runs and shows what the page says it shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "text-signals.md"


def test_the_first_example_runs_and_finds_the_obscured_phone() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/text-signals.md lost its example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks[0], str(DOC), "exec"), {})
    printed = out.getvalue()
    assert "phone +14155550142" in printed and "True" in printed
    assert "trust V" in printed and "obscured_contact V" in printed
