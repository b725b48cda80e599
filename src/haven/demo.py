"""`make demo`: Haven's main job, end to end, on a benign corpus.

Builds a demo corpus from scikit-image's sample photos of objects and places and from
generated images (no photos of people, nothing abusive: every file is a benign stand-in),
makes a bank from edited copies of some of them (as a hash list would arrive from an
authority), scans the corpus against it and prints what matched and how closely. With the
environment variable CI set, the same flow runs on a smaller corpus and exits.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from haven.index.bank import BankIndex
from haven.index.formats import HashRecord
from haven.media.pdq import hash_image
from haven.scan.runner import run_scan
from haven.synth import EDITS, benign_photos, encode_jpeg

__all__ = ["build_demo", "build_demo_list", "main"]

# Edits an uploader might make to a known image; the bank holds the hash of the edit, and
# the corpus holds the original and other edits, as happens when lists and uploads differ.
_BANKED_EDITS = ("jpeg_q30", "brightness_+30pc")
_CORPUS_EDITS = ("rotate_90", "flip_horizontal", "letterbox_12pc", "greyscale", "crop_1pc")


def build_demo(folder: Path, *, small: bool) -> tuple[Path, BankIndex, set[str]]:
    """Write the corpus under `folder`; return it, the bank, and the files that should match."""
    corpus, records, expected = build_demo_list(folder, small=small)
    return corpus, records, expected


def build_demo_list(folder: Path, *, small: bool) -> tuple[Path, list[HashRecord], set[str]]:
    """Write the corpus under `folder`; return it, the demo hash list, and what should match."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    photos = benign_photos()[: 8 if small else None]
    known = photos[::2]  # every other photo is "known material" (a benign stand-in)
    records: list[HashRecord] = []
    expected: set[str] = set()
    for number, (name, image) in enumerate(known):
        edit = _BANKED_EDITS[number % len(_BANKED_EDITS)]
        banked = hash_image(encode_jpeg(EDITS[edit](image)))
        records.append(
            HashRecord(f"demo-list:{name}:{edit}", "pdq", banked.pdq.hash, "demo-list", number + 1)
        )
    for name, image in photos:
        (corpus / f"{name}.jpg").write_bytes(encode_jpeg(image))
        if any(name == k for k, _ in known):
            expected.add(f"{name}.jpg")
            for edit in _CORPUS_EDITS[: 2 if small else None]:
                edited = EDITS[edit](image)
                out = io.BytesIO()
                edited.convert("RGB").save(out, format="PNG")
                (corpus / f"{name}--{edit}.png").write_bytes(out.getvalue())
                expected.add(f"{name}--{edit}.png")
    (corpus / "not-an-image.txt").write_text(
        "synthetic demo file: not media, must not stop the scan\n"
    )
    return corpus, records, expected


def main() -> int:
    small = bool(os.environ.get("CI"))
    console = Console(stderr=True, emoji=False)
    with tempfile.TemporaryDirectory(prefix="haven-demo-") as temporary:
        folder = Path(temporary)
        console.print(
            "[bold]Haven demo[/]: benign stand-ins only (objects, places, generated images)"
        )
        corpus, bank, expected = build_demo(folder, small=small)
        console.print(f"bank: {bank.counts()['pdq']} PDQ hashes of edited known images")
        lines = io.StringIO()
        run_scan(corpus, bank, workers=os.cpu_count(), out=lines, err=sys.stderr)
        results = [json.loads(line) for line in lines.getvalue().splitlines()]
        table = Table(title="what matched, and how closely")
        table.add_column("file")
        table.add_column("bank entry")
        table.add_column("distance", justify="right")
        table.add_column("via")
        matched: set[str] = set()
        for record in results:
            name = Path(record["path"]).name
            if "error" in record:
                table.add_row(escape(name), f"[yellow]skipped: {escape(record['error'])}", "", "")
                continue
            best = record["matches"][0] if record["matches"] else None
            if best:
                matched.add(name)
                table.add_row(escape(name), escape(best["id"]), str(best["distance"]), best["via"])
            else:
                table.add_row(escape(name), "[dim]no match", "", "")
        Console(emoji=False).print(table)
        missed = sorted(expected - matched)
        unexpected = sorted(matched - expected)
        console.print(
            f"{len(matched & expected)}/{len(expected)} known files found; "
            f"missed: {missed or 'none'}; false matches: {unexpected or 'none'}"
        )
        return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
