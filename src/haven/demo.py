"""The demo corpus and its bank: what `make demo` (`haven demo`) loads into a demo node.

Builds a demo corpus from scikit-image's sample photos of objects and places and from
generated images (no photos of people, nothing abusive: every file is a benign stand-in),
and a hash list of edited copies of some of them, as a list would arrive from an
authority: the corpus holds the originals and other edits, so matching is exercised across
the edits uploads and lists really differ by.
"""

from __future__ import annotations

import io
from pathlib import Path

from haven.index.bank import BankIndex
from haven.index.formats import HashRecord
from haven.media.pdq import hash_image
from haven.synth import EDITS, benign_photos, encode_jpeg

__all__ = ["build_demo", "build_demo_list"]

# Edits an uploader might make to a known image; the bank holds the hash of the edit, and
# the corpus holds the original and other edits, as happens when lists and uploads differ.
_BANKED_EDITS = ("jpeg_q30", "brightness_+30pc")
_CORPUS_EDITS = ("rotate_90", "flip_horizontal", "letterbox_12pc", "greyscale", "crop_1pc")


def build_demo(folder: Path, *, small: bool) -> tuple[Path, BankIndex, set[str]]:
    """Write the corpus under `folder`; return it, the bank, and the files that should match."""
    corpus, records, expected = build_demo_list(folder, small=small)
    return corpus, BankIndex(records), expected


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
