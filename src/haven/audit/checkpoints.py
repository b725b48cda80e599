"""Signed checkpoints of the audit chain head: what is signed, and the file copy of each.

A checkpoint is the node's Ed25519 signature over

    haven-audit-checkpoint\\n{seq}\\n{entry_hash}\\n{signed_at}

Each one is stored in the database and appended, as one JSON line, to a file outside it
(`$HAVEN_DATA_DIR/audit/checkpoints.jsonl`, folder 0700, file 0600, fsynced). Someone who
deletes the tail of the log *and* its checkpoint rows still leaves the file behind, and
nobody without the signing key (kept outside the database) can forge a checkpoint.

No Django import: the verifier and its tests use this module directly.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from haven.web.config import ensure_private_dir

__all__ = [
    "CheckpointFileError",
    "SignedCheckpoint",
    "append_checkpoint",
    "checkpoint_message",
    "read_checkpoints",
    "timestamp",
]

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX = re.compile(r"(?:[0-9a-f]{2})+\Z")


class CheckpointFileError(ValueError):
    """A line of the checkpoint file that is not a checkpoint; the message names the line."""


def timestamp(moment: datetime) -> str:
    """The one text form of a time inside hashed and signed audit data."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def checkpoint_message(seq: int, entry_hash: str, signed_at: str) -> bytes:
    return f"haven-audit-checkpoint\n{seq}\n{entry_hash}\n{signed_at}".encode()


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """One checkpoint as signed: the same fields in the database row and the file line."""

    seq: int
    entry_hash: str
    signed_at: str
    key_id: str
    signature: str  # hex

    @property
    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.entry_hash, self.signed_at)

    def to_line(self) -> str:
        body = {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n"

    @classmethod
    def from_line(cls, line: str, number: int) -> SignedCheckpoint:
        try:
            body = json.loads(line)
        except ValueError:
            raise CheckpointFileError(f"line {number} is not JSON") from None
        if not isinstance(body, dict):
            raise CheckpointFileError(f"line {number} is not a JSON object")
        seq = body.get("seq")
        fields = [body.get(name) for name in ("entry_hash", "signed_at", "key_id", "signature")]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise CheckpointFileError(f"line {number}: seq must be a positive whole number")
        if not all(isinstance(value, str) for value in fields):
            raise CheckpointFileError(f"line {number}: a field is missing or not text")
        entry_hash, signed_at, key_id, signature = (str(value) for value in fields)
        if not _HEX64.match(entry_hash) or not _HEX.match(signature) or not key_id:
            raise CheckpointFileError(f"line {number}: malformed hash, key id or signature")
        return cls(seq, entry_hash, signed_at, key_id, signature)


def append_checkpoint(path: Path, checkpoint: SignedCheckpoint) -> None:
    """Append one line durably (flush + fsync); several processes may append at once.

    An exclusive lock keeps lines whole; a last line left unfinished by a crash is closed
    with a newline first, so the new line stays readable.
    """
    ensure_private_dir(path.parent)
    created = not path.exists()
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_mode & 0o077:
            os.fchmod(descriptor, 0o600)
        data = checkpoint.to_line().encode()
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock
    if created:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def read_checkpoints(path: Path) -> Iterator[SignedCheckpoint | CheckpointFileError]:
    """Each line of the file as a checkpoint, or as the error that says what is wrong.

    A missing file yields nothing. An unfinished last line (a crash mid-append) is skipped:
    it was never a whole checkpoint. Blank lines are skipped.
    """
    try:
        handle = path.open("r", encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n"):
                return
            if not line.strip():
                continue
            try:
                yield SignedCheckpoint.from_line(line, number)
            except CheckpointFileError as exc:
                yield exc
