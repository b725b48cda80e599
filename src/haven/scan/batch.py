"""Hash one file into a JSON-ready record, and match such records against a bank.

Records follow the `haven hash` contract, so what a scan prints can be piped elsewhere:
image `{"path", "type": "image", "pdq", "quality", "md5", "sha256", "width", "height"}`,
video `{"path", "type": "video", "md5", "sha256", "frames": [[n, quality, pdq, seconds]]}`,
failure `{"path", "error", "code"}`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from haven.media.errors import MediaError, NotAnImage
from haven.media.exact import exact_hashes_of_file
from haven.media.pdq import DIHEDRAL_NAMES, HashOptions, hash_image
from haven.media.signals import PDQ

__all__ = [
    "ScanOptions",
    "hash_batch",
    "hash_file",
    "image_lookups",
    "iter_files",
    "match_record",
]

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    dihedral: bool = False
    frames_per_second: float = 1.0
    # FFmpeg decoder threads per video: 0 lets it choose; 1 inside a pool of processes.
    video_threads: int = 0
    hash_options: HashOptions = field(default_factory=HashOptions)


def _image_record(path: Path, options: ScanOptions) -> Record:
    image = hash_image(path, replace(options.hash_options, dihedral=options.dihedral))
    exact = exact_hashes_of_file(path)
    record: Record = {
        "path": str(path),
        "type": "image",
        "pdq": image.pdq.hex,
        "quality": image.pdq.quality,
        "md5": exact.md5,
        "sha256": exact.sha256,
        "width": image.width,
        "height": image.height,
        "pipeline": image.pipeline,
        "matchable": image.matchable,
    }
    if image.dihedral:
        record["dihedral"] = [h.hex() for h in image.dihedral]
    if image.unletterboxed is not None:
        record["unletterboxed_pdq"] = image.unletterboxed.hex
        if image.unletterboxed_variants:
            record["unletterboxed_variants"] = [h.hex() for h in image.unletterboxed_variants]
        if image.unletterboxed_dihedral:
            record["unletterboxed_dihedral"] = [h.hex() for h in image.unletterboxed_dihedral]
    return record


def _video_record(path: Path, options: ScanOptions) -> Record:
    from haven.media.video import VideoOptions, hash_video

    video = hash_video(
        path,
        VideoOptions(
            frames_per_second=options.frames_per_second, thread_count=options.video_threads
        ),
    )
    record: Record = {
        "path": str(path),
        "type": "video",
        "md5": video.md5,
        "sha256": video.sha256,
        "frames": [[f.number, f.quality, f.pdq.hex(), f.seconds] for f in video.frames],
        "width": video.width,
        "height": video.height,
        "pipeline": video.pipeline,
    }
    if video.issue:
        record["warning"] = video.issue
    return record


def hash_file(path: str | Path, options: ScanOptions | None = None) -> Record:
    """Hash one image or video file; never raises for bad media (returns an error record)."""
    options = options or ScanOptions()
    path = Path(path)
    try:
        try:
            return _image_record(path, options)
        except NotAnImage:
            pass
        try:
            return _video_record(path, options)
        except NotAnImage:
            raise NotAnImage("neither an image nor a video format Haven can read") from None
    except MediaError as exc:
        return {"path": str(path), "error": str(exc), "code": exc.code}
    except OSError as exc:
        return {"path": str(path), "error": f"cannot read: {exc.strerror or exc}", "code": "io"}


def hash_batch(paths: Sequence[str | Path], options: ScanOptions | None = None) -> list[Record]:
    """Hash many files in this process; a process pool maps this over chunks."""
    return [hash_file(p, options) for p in paths]


def iter_files(root: str | Path) -> Iterator[Path]:
    """Every regular file under root, in a stable order, not following symbolic links."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path


def image_lookups(record: Record) -> list[tuple[str, str]]:
    """Every PDQ lookup an image record yields, as (`via` name, hex hash): the plain hash,
    the 7 other rotations and flips, and the crops without borders with theirs."""
    lookups: list[tuple[str, str]] = [("pdq", record["pdq"])]
    # The first dihedral hash is the original: already looked up as "pdq".
    lookups += list(zip(DIHEDRAL_NAMES[1:], record.get("dihedral", [])[1:], strict=False))
    if "unletterboxed_pdq" in record:
        lookups.append(("unletterboxed", record["unletterboxed_pdq"]))
        lookups += [
            ("unletterboxed_symmetric", h) for h in record.get("unletterboxed_variants", [])
        ]
        crops = ("unletterboxed", "unletterboxed_symmetric")
        names = [f"{crop}_{name}" for crop in crops for name in DIHEDRAL_NAMES]
        lookups += list(zip(names, record.get("unletterboxed_dihedral", []), strict=False))
    return lookups


def match_record(record: Record, bank: Any, radius: int = 31) -> list[dict[str, Any]]:
    """Matches of one hash record against a `BankIndex`, nearest first, one per entry.

    Every lookup counts: the plain hash, the 8 rotations and flips, the hash without
    letterbox bars, and the exact file hashes; `via` says which one matched.
    """
    if "error" in record:
        return []
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def keep(entry_id: str, signal: str, distance: int, via: str) -> None:
        key = (entry_id, signal)
        if key not in found or distance < found[key]["distance"]:
            found[key] = {"id": entry_id, "signal": signal, "distance": distance, "via": via}

    for signal in ("md5", "sha256"):
        for match in bank.match_exact(signal, bytes.fromhex(record[signal])):
            keep(match.id, signal, 0, signal)
    if record["type"] == "image" and record.get("matchable", True):
        lookups = image_lookups(record)
        hashes = [PDQ.parse(h) for _, h in lookups]
        for (via, _), matches in zip(lookups, bank.match_pdq(hashes, radius), strict=True):
            for match in matches:
                keep(match.id, "pdq", match.distance, via)
    elif record["type"] == "video":
        frames = [(PDQ.parse(pdq), quality) for _, quality, pdq, _ in record["frames"]]
        good = [h for h, q in frames if q >= 50]
        for (number, _, _, _), matches in zip(
            [f for f in record["frames"] if f[1] >= 50], bank.match_pdq(good, radius), strict=True
        ):
            for match in matches:
                if not match.video:  # banked videos are matched whole, below
                    keep(match.id, "pdq", match.distance, f"frame {number}")
        for video in bank.match_video_frames(frames, radius):
            found[(video.video, "vpdq")] = {
                "id": video.video,
                "signal": "vpdq",
                "distance": 0,
                "via": f"{video.banked_frames_matched}/{video.banked_frames_total} frames",
                "banked_share": round(video.banked_share, 4),
            }
    return sorted(found.values(), key=lambda m: (m["distance"], m["id"], m["signal"]))
