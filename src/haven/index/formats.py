"""Reading and writing hash lists in the formats other tools exchange.

- plain: one hex hash per line (`#` comments and blank lines ignored);
- CSV: a header row with a hash column (`hash`, `pdq`, `signal_value`, `md5`, `sha256`),
  an optional id column (`id`, `external_id`, `entry_id`) and any metadata columns;
- python-threatexchange's `local_file`: `<signal type> <hash>` per line (`pdq <hex>`);
- vPDQ: `frame_number,quality,pdq_hex[,timestamp]` per line, one entry per frame.

A list keeps the provenance it came with: each record says which file and line it came from,
and the id is the list's own id column when it has one, else `<file name>:<line number>`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from haven.media.signals import PDQ, MalformedHash, SignalType, signal_type
from haven.media.vpdq import MalformedVpdq, read_vpdq

__all__ = [
    "FORMATS",
    "HashListError",
    "HashRecord",
    "detect_format",
    "read_hash_list",
    "read_hash_list_text",
    "write_hash_list",
]

FORMATS = ("plain", "csv", "local_file", "vpdq")
_HASH_COLUMNS = ("hash", "pdq", "signal_value", "sha256", "md5")
_ID_COLUMNS = ("id", "external_id", "entry_id")
_SIGNAL_COLUMNS = ("signal_type", "type")
_VPDQ_LINE = re.compile(r"^\s*\d+\s*,\s*-?\d+\s*,\s*[0-9A-Fa-f]{64}\s*(,.*)?$")
_LOCAL_FILE_LINE = re.compile(r"^\s*[a-z_0-9]+\s+\S+\s*$")
# python-threatexchange's names for the signal types Haven shares with it.
_TX_NAMES = {"pdq": "pdq", "md5": "md5", "video_md5": "md5", "sha256": "sha256"}
_MAX_LINE = 4096


class HashListError(ValueError):
    """A hash list that cannot be read; says which file and line, and why."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")
        self.source, self.line, self.problem = source, line, problem


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One entry of a hash list, with where it came from."""

    id: str
    signal: str
    hash: bytes
    source: str
    line: int
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def hex(self) -> str:
        return self.hash.hex()


def detect_format(name: str, lines: list[str]) -> str:
    """Guess a list's format from its name and first meaningful lines."""
    lowered = name.lower()
    if lowered.endswith((".vpdq", ".vpdq.txt")):
        return "vpdq"
    if lowered.endswith(".csv"):
        return "csv"
    meaningful = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")][:5]
    if not meaningful:
        return "plain"
    first = meaningful[0]
    if all(_VPDQ_LINE.match(ln) for ln in meaningful):
        return "vpdq"
    if "," in first:
        return "csv"
    if _LOCAL_FILE_LINE.match(first) and " " in first.strip():
        return "local_file"
    return "plain"


def _parse(signal: SignalType, text: str, source: str, line: int) -> bytes:
    try:
        return signal.parse(text)
    except MalformedHash as exc:
        raise HashListError(source, line, str(exc)) from None


def _plain(lines: Iterable[str], source: str, signal: SignalType) -> Iterator[HashRecord]:
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        yield HashRecord(
            f"{source}:{number}", signal.name, _parse(signal, text, source, number), source, number
        )


def _local_file(lines: Iterable[str], source: str) -> Iterator[HashRecord]:
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        kind, _, value = text.partition(" ")
        name = _TX_NAMES.get(kind)
        if name is None:
            raise HashListError(source, number, f"unsupported signal type {kind!r}")
        yield HashRecord(
            f"{source}:{number}",
            name,
            _parse(signal_type(name), value, source, number),
            source,
            number,
        )


def _csv(text: str, source: str, signal: SignalType) -> Iterator[HashRecord]:
    try:
        yield from _csv_rows(text, source, signal)
    except csv.Error as exc:
        raise HashListError(source, None, f"not valid CSV: {exc}") from None


def _csv_rows(text: str, source: str, signal: SignalType) -> Iterator[HashRecord]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    hash_column = next((c for c in _HASH_COLUMNS if c in header), None)
    if hash_column is None:
        raise HashListError(source, 1, f"CSV header has no hash column (one of {_HASH_COLUMNS})")
    hash_at = header.index(hash_column)
    id_at = next((header.index(c) for c in _ID_COLUMNS if c in header), None)
    type_at = next((header.index(c) for c in _SIGNAL_COLUMNS if c in header), None)
    default = signal if hash_column not in ("md5", "sha256") else signal_type(hash_column)
    for row in reader:
        number = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise HashListError(source, number, f"expected {len(header)} columns, got {len(row)}")
        kind = default
        if type_at is not None and row[type_at].strip():
            name = _TX_NAMES.get(row[type_at].strip().lower(), row[type_at].strip().lower())
            try:
                kind = signal_type(name)
            except MalformedHash as exc:
                raise HashListError(source, number, str(exc)) from None
        entry_id = row[id_at].strip() if id_at is not None and row[id_at].strip() else None
        metadata = {
            header[i]: cell for i, cell in enumerate(row) if i not in (hash_at, id_at, type_at)
        }
        yield HashRecord(
            entry_id or f"{source}:{number}",
            kind.name,
            _parse(kind, row[hash_at], source, number),
            source,
            number,
            metadata,
        )


def _vpdq(lines: list[str], source: str) -> Iterator[HashRecord]:
    try:
        frames = read_vpdq(lines)
    except MalformedVpdq as exc:
        raise HashListError(source, exc.line_number, exc.problem) from None
    numbered = [n for n, ln in enumerate(lines, start=1) if ln.strip()]
    for number, frame in zip(numbered, frames, strict=True):
        metadata = {"frame": str(frame.number), "quality": str(frame.quality)}
        if frame.seconds is not None:
            metadata["seconds"] = repr(frame.seconds)
        yield HashRecord(f"{source}:{number}", PDQ.name, frame.pdq, source, number, metadata)


def read_hash_list_text(
    text: str, source: str, *, format: str | None = None, signal: SignalType = PDQ
) -> list[HashRecord]:
    """Parse a hash list held in memory; `source` names it in ids and errors."""
    lines = text.splitlines()
    if any(len(line) > _MAX_LINE for line in lines):
        raise HashListError(source, None, f"a line is longer than {_MAX_LINE} characters")
    chosen = format or detect_format(source, lines)
    if chosen == "plain":
        return list(_plain(lines, source, signal))
    if chosen == "local_file":
        return list(_local_file(lines, source))
    if chosen == "csv":
        return list(_csv(text, source, signal))
    if chosen == "vpdq":
        return list(_vpdq(lines, source))
    raise HashListError(source, None, f"unknown format {chosen!r} (known: {', '.join(FORMATS)})")


def read_hash_list(
    path: str | Path, *, format: str | None = None, signal: SignalType = PDQ
) -> list[HashRecord]:
    """Read a hash list file; ids default to `<file name>:<line number>`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise HashListError(path.name, None, "not a UTF-8 text file") from None
    except OSError as exc:
        raise HashListError(path.name, None, f"cannot read: {exc.strerror or exc}") from None
    return read_hash_list_text(text, path.name, format=format, signal=signal)


def write_hash_list(records: Iterable[HashRecord], format: str = "csv") -> str:
    """Serialise records; CSV keeps ids, signal types and metadata, the others only hashes."""
    records = list(records)
    if format == "plain":
        return "".join(f"{r.hex}\n" for r in records)
    if format == "local_file":
        return "".join(f"{r.signal} {r.hex}\n" for r in records)
    if format == "vpdq":
        return "".join(
            f"{r.metadata.get('frame', i)},{r.metadata.get('quality', 100)},{r.hex},"
            f"{float(r.metadata.get('seconds', 0.0)):.3f}\n"
            for i, r in enumerate(records)
        )
    if format != "csv":
        raise ValueError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    columns = sorted({key for r in records for key in r.metadata})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "signal_type", "hash", *columns])
    for r in records:
        writer.writerow([r.id, r.signal, r.hex, *(r.metadata.get(c, "") for c in columns)])
    return out.getvalue()
