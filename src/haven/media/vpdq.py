"""vPDQ: a video as the PDQ hashes of its sampled frames, its text format, and its match rule.

The text format is Meta's (vpdq `*.txt` files): one line per hashed frame,
`frame_number,quality,pdq_hex,timestamp_seconds`; older files have no timestamp, so the
fourth field is optional. Hash lists arrive from other organisations in this format, so
the reader is strict and says which line is wrong instead of guessing.

Matching follows vpdq's rule rather than an average distance, because the question a bank
asks is "does this upload contain the banked video?": a banked clip cut into a long
compilation must still match although most of the upload is something else. Hence two
shares, one per side, with separate thresholds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from haven.media.signals import PDQ, VPDQ, MalformedHash

__all__ = [
    "DEFAULT_BANKED_SHARE",
    "DEFAULT_QUERY_SHARE",
    "MalformedVpdq",
    "VideoFrame",
    "VideoMatch",
    "hamming_distances",
    "match_video",
    "read_vpdq",
    "write_vpdq",
]

# The share of a banked video's distinct frames that must be found in an upload
# (python-threatexchange's default for the matched side).
DEFAULT_BANKED_SHARE = 0.8
# No share is asked of the upload by default: a compilation is mostly other material.
DEFAULT_QUERY_SHARE = 0.0
_DEFAULT_QUALITY_THRESHOLD = 50
_HASH_BYTES = 32
# Frame numbers travel to C++ tools that hold them in 64-bit integers.
_MAX_FRAME_NUMBER = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
# A distance matrix block of at most this many frame pairs (x 32 bytes of XOR scratch).
_PAIRS_PER_BLOCK = 1 << 20


class MalformedVpdq(MalformedHash):
    """A vPDQ text line that is not `frame,quality,hex[,seconds]`.

    A `MalformedHash` (so code that imports hash lists handles it with the rest) that also
    carries the 1-based `line_number` and the offending `line`.
    """

    def __init__(self, line_number: int, line: str, problem: str) -> None:
        shown = line if len(line) <= 80 else line[:77] + "..."
        super().__init__(f"vPDQ line {line_number}: {problem} (in {shown!r})")
        self.line_number = line_number
        self.line = line
        self.problem = problem

    def __reduce__(self) -> tuple[type[MalformedVpdq], tuple[int, str, str]]:
        # Batch workers send failures back to the parent process by pickling them.
        return (type(self), (self.line_number, self.line, self.problem))


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One hashed frame of a video.

    `number` is the frame's 0-based index among all decoded frames (not among the sampled
    ones), so lists sampled at different rates still name frames the same way. `seconds`
    is the presentation time from the video's start, or None for old files without it.
    """

    number: int
    quality: int
    pdq: bytes
    seconds: float | None = None

    def __post_init__(self) -> None:
        problem = _frame_problem(self.number, self.quality, self.pdq, self.seconds)
        if problem is not None:
            raise ValueError(problem)


def _frame_problem(number: int, quality: int, pdq: bytes, seconds: float | None) -> str | None:
    if not 0 <= number <= _MAX_FRAME_NUMBER:
        return f"frame number must be between 0 and 2**63-1, got {number}"
    if not 0 <= quality <= 100:
        return f"quality must be between 0 and 100, got {quality}"
    if not isinstance(pdq, bytes) or len(pdq) != _HASH_BYTES:
        return f"pdq must be {_HASH_BYTES} bytes"
    if seconds is not None and not (math.isfinite(seconds) and seconds >= 0.0):
        return f"seconds must be a finite number >= 0, got {seconds!r}"
    return None


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """The outcome of comparing an upload (query) with one banked video.

    Totals count distinct hashes of matchable quality, which is what the shares are
    computed over; a side with no such frame can never match.
    """

    matched: bool
    banked_share: float
    query_share: float
    banked_frames_matched: int
    banked_frames_total: int
    query_frames_matched: int
    query_frames_total: int


def _parse_line(line_number: int, line: str) -> VideoFrame:
    fields = [field.strip() for field in line.split(",")]
    if len(fields) not in (3, 4):
        raise MalformedVpdq(
            line_number, line, f"expected 3 or 4 comma-separated fields, got {len(fields)}"
        )
    number_text, quality_text, hash_text = fields[:3]
    if not _DIGITS.fullmatch(number_text):
        raise MalformedVpdq(line_number, line, "the frame number is not a non-negative integer")
    if not _DIGITS.fullmatch(quality_text):
        raise MalformedVpdq(line_number, line, "the quality is not a non-negative integer")
    number, quality = int(number_text), int(quality_text)
    if number > _MAX_FRAME_NUMBER:
        raise MalformedVpdq(line_number, line, "the frame number is too large")
    if quality > 100:
        raise MalformedVpdq(line_number, line, f"quality {quality} is over 100")
    try:
        pdq = PDQ.parse(hash_text)
    except MalformedHash as exc:
        raise MalformedVpdq(line_number, line, str(exc)) from None
    seconds: float | None = None
    if len(fields) == 4:
        if not _SECONDS.fullmatch(fields[3]):
            raise MalformedVpdq(line_number, line, "the timestamp is not a number of seconds")
        seconds = float(fields[3])
        if not math.isfinite(seconds):
            raise MalformedVpdq(line_number, line, "the timestamp is out of range")
    return VideoFrame(number=number, quality=quality, pdq=pdq, seconds=seconds)


def read_vpdq(source: str | Iterable[str]) -> list[VideoFrame]:
    """Parse vPDQ text (a whole string, or lines such as an open file).

    Blank lines are skipped; every other line must be well formed, or `MalformedVpdq`
    names it: a list with one bad line is not trusted to be the list it claims to be.
    """
    lines: Iterable[str] = source.splitlines() if isinstance(source, str) else source
    frames: list[VideoFrame] = []
    for line_number, raw in enumerate(lines, start=1):
        if not isinstance(raw, str):
            raise MalformedVpdq(line_number, repr(raw), "a line must be text")
        line = raw.strip()
        if line:
            frames.append(_parse_line(line_number, line))
    return frames


def _format_seconds(seconds: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{seconds:.{decimals}f}"
    # The shortest digits that read back as the same float, never in exponent form.
    return np.format_float_positional(seconds, unique=True, trim="0")


def write_vpdq(frames: Iterable[VideoFrame], *, decimals: int | None = None) -> str:
    """vPDQ text, one line per frame, each ending in a newline.

    By default timestamps are written exactly (read back, they compare equal); pass
    `decimals=3` to reproduce Meta's tool output, which rounds to milliseconds.
    """
    lines = []
    for frame in frames:
        head = f"{frame.number},{frame.quality},{frame.pdq.hex()}"
        if frame.seconds is None:
            lines.append(head + "\n")
        else:
            lines.append(f"{head},{_format_seconds(frame.seconds, decimals)}\n")
    return "".join(lines)


def _as_matrix(hashes: Sequence[bytes]) -> NDArray[np.uint64]:
    """Hashes as an (n, 4) array of 64-bit words, so one XOR covers 64 bits."""
    if not hashes:
        return np.zeros((0, _HASH_BYTES // 8), dtype=np.uint64)
    packed = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), _HASH_BYTES)
    return packed.view(np.uint64)


def _popcount(words: NDArray[np.uint64]) -> NDArray[np.uint8]:
    if hasattr(np, "bitwise_count"):
        counted: NDArray[np.uint8] = np.bitwise_count(words)
        return counted
    # numpy < 2.0: count the bits of each byte.
    as_bytes = words.view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=-1).reshape(*words.shape, 64)
    per_word: NDArray[np.uint8] = bits.sum(axis=-1, dtype=np.uint8)
    return per_word


def hamming_distances(left: Sequence[bytes], right: Sequence[bytes]) -> NDArray[np.uint16]:
    """The full (len(left), len(right)) matrix of Hamming distances between 32-byte hashes."""
    a, b = _as_matrix(left), _as_matrix(right)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.uint16)
    distances: NDArray[np.uint16] = _popcount(a[:, None, :] ^ b[None, :, :]).sum(
        axis=-1, dtype=np.uint16
    )
    return distances


def _found_both_ways(
    banked: NDArray[np.uint64], query: NDArray[np.uint64], distance: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which banked rows have a query row within `distance`, and which query rows do.

    Computed in blocks of banked rows so that memory stays bounded however long the two
    videos are; each block is one broadcast XOR and popcount.
    """
    banked_found = np.zeros(len(banked), dtype=np.bool_)
    query_found = np.zeros(len(query), dtype=np.bool_)
    rows = max(1, _PAIRS_PER_BLOCK // max(1, len(query)))
    for start in range(0, len(banked), rows):
        block = banked[start : start + rows]
        near = _popcount(block[:, None, :] ^ query[None, :, :]).sum(axis=-1, dtype=np.uint16)
        close = near <= distance
        banked_found[start : start + len(block)] = close.any(axis=1)
        query_found |= close.any(axis=0)
    return banked_found, query_found


def _matchable_unique(frames: Iterable[VideoFrame], quality_threshold: int) -> list[bytes]:
    # Filter before de-duplicating: a hash seen once at low and once at good quality counts.
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= quality_threshold))


def match_video(
    query_frames: Iterable[VideoFrame],
    banked_frames: Iterable[VideoFrame],
    *,
    distance: int = VPDQ.threshold,
    quality_threshold: int = _DEFAULT_QUALITY_THRESHOLD,
    banked_share: float = DEFAULT_BANKED_SHARE,
    query_share: float = DEFAULT_QUERY_SHARE,
) -> VideoMatch:
    """Compare an upload with one banked video by vpdq's rule.

    Frames under `quality_threshold` are dropped on both sides and identical hashes counted
    once. A distinct banked hash is found when some query hash is within `distance` bits
    (inclusive, as in python-threatexchange; vpdq's C++ tool uses a strict `<`), and the
    other way round for the query. It is a match when at least `banked_share` of the banked
    hashes are found and at least `query_share` of the query's.
    """
    if not 0 <= distance <= 256:
        raise ValueError(f"distance must be between 0 and 256 bits, got {distance}")
    for name, share in (("banked_share", banked_share), ("query_share", query_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    query = _matchable_unique(query_frames, quality_threshold)
    banked = _matchable_unique(banked_frames, quality_threshold)
    if not query or not banked:
        return VideoMatch(False, 0.0, 0.0, 0, len(banked), 0, len(query))
    banked_found, query_found = _found_both_ways(_as_matrix(banked), _as_matrix(query), distance)
    banked_hits, query_hits = int(banked_found.sum()), int(query_found.sum())
    banked_fraction = banked_hits / len(banked)
    query_fraction = query_hits / len(query)
    return VideoMatch(
        matched=banked_fraction >= banked_share and query_fraction >= query_share,
        banked_share=banked_fraction,
        query_share=query_fraction,
        banked_frames_matched=banked_hits,
        banked_frames_total=len(banked),
        query_frames_matched=query_hits,
        query_frames_total=len(query),
    )
