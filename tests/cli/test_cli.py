"""The `haven` command's contracts, which other tools script."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from haven.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def haven(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "haven.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def photo(path: Path, seed: int, size: tuple[int, int] = (320, 240)) -> Path:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(path, quality=92)
    return path


def test_hash_prints_the_documented_json_lines(tmp_path: Path) -> None:
    good = photo(tmp_path / "a.jpg", 1)
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    result = haven("hash", "--dihedral", str(good), str(bad))
    assert result.returncode == 1  # one file failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    image, failure = lines
    assert {"path", "type", "pdq", "quality", "md5", "sha256", "width", "height"} <= set(image)
    assert image["type"] == "image" and (image["width"], image["height"]) == (320, 240)
    assert re.fullmatch("[0-9a-f]{64}", image["pdq"])
    assert len(image["dihedral"]) == 8 and image["dihedral"][0] == image["pdq"]
    assert set(failure) >= {"path", "error"} and failure["path"] == str(bad)
    assert "Traceback" not in result.stderr
    assert haven("hash", str(good)).returncode == 0


def test_hash_video_contract(reference_dir: Path) -> None:
    video = reference_dir / "videos" / "pattern-sd-grey-bar.mp4"
    record = json.loads(haven("hash", str(video)).stdout)
    assert record["type"] == "video" and set(record) >= {"path", "md5", "sha256", "frames"}
    number, quality, pdq, seconds = record["frames"][1]
    assert isinstance(number, int) and 0 <= quality <= 100 and len(pdq) == 64
    assert seconds == pytest.approx(1.0, abs=0.05)


def test_index_build_and_match(tmp_path: Path, reference_dir: Path) -> None:
    hashes = (reference_dir / "haystack.txt").read_text().split()[:50]
    (tmp_path / "list.txt").write_text("\n".join(hashes) + "\n")
    (tmp_path / "named.csv").write_text(f"id,hash,note\nknown-1,{hashes[0]},synthetic\n")
    built = haven("index", "build", str(tmp_path / "bank.idx"), str(tmp_path / "list.txt"),
                  str(tmp_path / "named.csv"))  # fmt: skip
    assert built.returncode == 0, built.stderr
    result = haven("match", str(tmp_path / "bank.idx"), hashes[0], "-", stdin=hashes[3] + "\n")
    assert result.returncode == 0
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["query"] == hashes[0]
    ids = [m["id"] for m in first["matches"] if m["distance"] == 0]
    assert {"list.txt:1", "known-1"} <= set(ids)
    assert all(a["distance"] <= b["distance"] for a, b in itertools.pairwise(first["matches"]))
    assert {"id": "list.txt:4", "distance": 0} in second["matches"]
    far = haven("match", "--radius", "0", str(tmp_path / "bank.idx"), "0" * 64)
    assert json.loads(far.stdout)["matches"] == []


def test_bad_input_gets_a_clear_error_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("abc\n")
    built = haven("index", "build", str(tmp_path / "x.idx"), str(tmp_path / "bad.txt"))
    assert built.returncode == 2 and "bad.txt:1" in built.stderr
    assert not (tmp_path / "x.idx").exists()
    (tmp_path / "not.idx").write_bytes(b"garbage")
    opened = haven("match", str(tmp_path / "not.idx"), "0" * 64)
    assert opened.returncode != 0 and "not a Haven index" in opened.stderr
    assert "Traceback" not in built.stderr + opened.stderr
    radius = haven("match", "--radius", "x", str(tmp_path / "not.idx"), "0" * 64)
    assert radius.returncode == 2 and "radius" in radius.stderr


def test_scan_reports_every_file_with_its_matches(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    known = photo(corpus / "known.jpg", 7)
    photo(corpus / "other.jpg", 8)
    Image.open(known).transpose(Image.Transpose.ROTATE_90).save(corpus / "rotated.png")
    (corpus / "junk.bin").write_bytes(b"\x00" * 100)
    pdq = json.loads(haven("hash", str(known)).stdout)["pdq"]
    (tmp_path / "bank.txt").write_text(pdq + "\n")
    assert (
        haven("index", "build", str(tmp_path / "b.idx"), str(tmp_path / "bank.txt")).returncode == 0
    )
    result = haven("scan", str(corpus), "--index", str(tmp_path / "b.idx"), "--workers", "2")
    assert result.returncode == 1  # junk.bin failed, the scan went on
    records = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records) == {"known.jpg", "other.jpg", "rotated.png", "junk.bin"}
    assert records["known.jpg"]["matches"][0]["id"] == "bank.txt:1"
    assert records["rotated.png"]["matches"][0]["via"].startswith("rotate")
    assert records["other.jpg"]["matches"] == []
    assert "error" in records["junk.bin"]
    assert "haven scan" in result.stderr  # the summary table


def test_engine_subcommands_never_import_django(tmp_path: Path) -> None:
    probe = (
        "import sys, haven.cli as c\n"
        "sys.argv=['haven','hash','/nonexistent']\n"
        "try:\n    c.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "import haven.index.bank, haven.scan.runner, haven.media.video\n"
        "assert not [m for m in sys.modules if m.split('.')[0]=='django'], 'django imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _commands_and_options() -> list[str]:
    """Every subcommand path and option the parser defines."""
    found: list[str] = []

    def walk(parser: object, prefix: str) -> None:
        for action in parser._actions:  # type: ignore[attr-defined]
            if action.option_strings and action.dest != "help":
                found.extend(f"{prefix} {o}" for o in action.option_strings if o.startswith("--"))
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    found.append(f"{prefix} {name}".strip())
                    walk(sub, f"{prefix} {name}".strip())

    walk(build_parser(), "")
    return found


def test_every_command_and_option_is_documented() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text()
    missing = []
    for entry in _commands_and_options():
        last = entry.split()[-1]
        if last.startswith("--"):
            if f"`{last}" not in docs:
                missing.append(entry)
        elif f"haven {entry}" not in docs:
            missing.append(entry)
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_help_runs_without_error() -> None:
    out = io.StringIO()
    build_parser().print_help(out)
    assert "hash" in out.getvalue()
