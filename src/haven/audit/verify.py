"""Verifying the audit chain: every entry, every link, every signed checkpoint.

`verify_chain()` walks the whole log in seq order, streaming (millions of entries use little
memory), and stops at the first problem, which it names with its seq and what is wrong:

- ``edited``: an entry's stored hash does not match its contents;
- ``missing``: a seq is absent (an entry was deleted), or entries were deleted and the
  later ones renumbered;
- ``reordered``: an entry sits at another seq than the one it was written at;
- ``rewritten``: an entry does not link to the one before it (one of them was replaced
  with a consistently re-hashed copy);
- ``bad_checkpoint``: a checkpoint (database row or file line) whose signature is not the
  node's, by any of its signing keys, current or rotated;
- ``recomputed``: a validly signed checkpoint that does not match the entry at its seq
  (the chain was recomputed after an edit);
- ``truncated``: the log ends before a signed checkpoint, or before the recorded head —
  caught through the checkpoint file even when the checkpoint rows were deleted too;
- ``bad_checkpoint_file``: a line of the checkpoint file that is not a checkpoint;
- ``head``: the head record disagrees with the log.

The log may grow while it is verified (the server keeps appending): the walk covers the
entries present when it started, and what lies beyond is checked against the live table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haven.audit.chain import GENESIS, HASHED_FIELDS, entry_digest
from haven.audit.checkpoints import (
    CheckpointFileError,
    SignedCheckpoint,
    read_checkpoints,
    timestamp,
)
from haven.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from haven.audit.services import checkpoint_file
from haven.keys import KeyRing, KeyRingError
from haven.web.node import keyring

__all__ = ["Problem", "VerifyResult", "verify_chain"]

Progress = Callable[[int, int], None]

_COLUMNS = (*HASHED_FIELDS, "prev_hash", "entry_hash")
_CHUNK = 5000
_PROGRESS_EVERY = 2000
# How far from its seq a moved entry is looked for when explaining a mismatch.
_WINDOW = 256


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with the log: where (`seq`, None for the file) and what."""

    kind: str
    seq: int | None
    message: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entries: int
    last_seq: int
    head_hash: str
    checkpoints_db: int
    checkpoints_file: int
    last_checkpoint: int
    problem: Problem | None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        """One line for people: the state of the chain, or the first problem and where."""
        if self.problem is not None:
            seq = self.problem.seq
            where = f"at seq {seq}" if seq is not None else "before the walk"
            return f"audit chain BROKEN {where} ({self.problem.kind}): {self.problem.message}"
        if self.entries == 0:
            return "audit chain intact: the log is empty"
        return (
            f"audit chain intact: {self.entries} entries (seq 1-{self.last_seq}), "
            f"head {self.head_hash[:16]}, {self.checkpoints_db} signed checkpoints "
            f"({self.checkpoints_file} in the checkpoint file), last at seq "
            f"{self.last_checkpoint or '-'}, verified in {self.seconds:.1f}s"
        )


@dataclass(slots=True)
class _Checkpoint:
    source: str  # "database" or "file"
    signed: SignedCheckpoint


class _Found(Exception):
    """Raised inside the walk to stop at the first problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(slots=True)
class _Walk:
    keys: KeyRing
    checkpoints: dict[int, list[_Checkpoint]]
    entries: int = 0
    last_seq: int = 0
    head_hash: str = GENESIS
    last_good_checkpoint: int = 0
    warnings: list[str] = field(default_factory=list)


def _fields(row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["at"] = timestamp(values["at"])
    return values


def _digest_at(values: dict[str, Any], seq: int) -> str:
    return entry_digest({**values, "seq": seq}, values["prev_hash"])


def _check_signature(keys: KeyRing, found: _Checkpoint) -> str | None:
    """None when the checkpoint is the node's signature, else why not."""
    signed = found.signed
    try:
        signature = bytes.fromhex(signed.signature)
        keys.verify(signed.key_id, signed.message, signature)
    except ValueError as exc:  # SignatureInvalid and bad hex are both ValueErrors
        return str(exc)
    return None


def _check_checkpoints(walk: _Walk, seq: int, entry_hash: str) -> None:
    found_here = walk.checkpoints.pop(seq, None)
    if not found_here:
        return
    for found in found_here:
        why = _check_signature(walk.keys, found)
        if why is not None:
            raise _Found(
                Problem(
                    "bad_checkpoint",
                    seq,
                    f"the checkpoint at seq {seq} in the {found.source} is not signed by "
                    f"this node: {why}",
                )
            )
        if found.signed.entry_hash != entry_hash:
            raise _Found(
                Problem(
                    "recomputed",
                    seq,
                    f"entry {seq} does not match the checkpoint signed for it "
                    f"({found.source}): entries {walk.last_good_checkpoint + 1}-{seq} were "
                    "rewritten and the chain recomputed",
                )
            )
    walk.last_good_checkpoint = seq


def _explain_mismatch(values: dict[str, Any], seq: int) -> Problem:
    """An entry whose hash does not match: edited in place, or moved to another seq?"""
    low, high = max(1, seq - _WINDOW), seq + _WINDOW
    written_at = next(
        (
            k
            for k in range(low, high + 1)
            if k != seq and _digest_at(values, k) == values["entry_hash"]
        ),
        None,
    )
    if written_at is None:
        return Problem(
            "edited", seq, f"entry {seq} was edited: its stored hash does not match its contents"
        )
    nearby = AuditEntry.objects.filter(seq__gte=low, seq__lte=high).exclude(seq=seq)
    for row in nearby.order_by("seq").values_list(*_COLUMNS):
        other = _fields(row)
        if _digest_at(other, seq) == other["entry_hash"]:
            return Problem(
                "reordered",
                seq,
                f"entries were reordered: seq {seq} holds the entry written as {written_at}, "
                f"and the entry written as {seq} is now at seq {other['seq']}",
            )
    if written_at > seq:
        gap = f"entry {seq}" if written_at == seq + 1 else f"entries {seq}-{written_at - 1}"
        return Problem(
            "missing",
            seq,
            f"{gap} deleted and the later entries renumbered: seq {seq} holds the entry "
            f"written as {written_at}",
        )
    return Problem(
        "reordered",
        seq,
        f"entries were reordered: seq {seq} holds the entry written as {written_at}",
    )


def _walk_entries(
    walk: _Walk, rows: Iterable[tuple[Any, ...]], total: int, progress: Progress | None
) -> None:
    expected = 1
    prev_hash = GENESIS
    for row in rows:
        values = _fields(row)
        seq = int(values["seq"])
        if seq != expected:
            gap = (
                f"entry {expected} is"
                if seq == expected + 1
                else f"entries {expected}-{seq - 1} are"
            )
            raise _Found(Problem("missing", expected, f"{gap} missing (deleted)"))
        if entry_digest(values, values["prev_hash"]) != values["entry_hash"]:
            raise _Found(_explain_mismatch(values, seq))
        if values["prev_hash"] != prev_hash:
            raise _Found(
                Problem(
                    "rewritten",
                    seq,
                    f"entry {seq} does not link to entry {seq - 1} (its previous hash is "
                    f"{values['prev_hash'][:16]}, entry {seq - 1}'s is {prev_hash[:16]}): one of "
                    "them was replaced by a re-hashed copy, or entries were removed",
                )
            )
        _check_checkpoints(walk, seq, values["entry_hash"])
        prev_hash = values["entry_hash"]
        walk.entries += 1
        walk.last_seq = seq
        walk.head_hash = prev_hash
        expected += 1
        if progress is not None and walk.entries % _PROGRESS_EVERY == 0:
            progress(walk.entries, max(total, walk.entries))


def _load_checkpoints(walk: _Walk, checkpoint_path: Path) -> tuple[int, int]:
    db_count = 0
    for seq, entry_hash, signed_at, key_id, signature in (
        AuditCheckpoint.objects.order_by("seq")
        .values_list("seq", "entry_hash", "signed_at", "key_id", "signature")
        .iterator(chunk_size=_CHUNK)
    ):
        signed = SignedCheckpoint(seq, entry_hash, timestamp(signed_at), key_id, signature)
        walk.checkpoints.setdefault(seq, []).append(_Checkpoint("database", signed))
        db_count += 1
    in_db = {seq for seq in walk.checkpoints}
    file_count = 0
    in_file: set[int] = set()
    for item in read_checkpoints(checkpoint_path):
        if isinstance(item, CheckpointFileError):
            raise _Found(Problem("bad_checkpoint_file", None, f"{checkpoint_path}: {item}"))
        walk.checkpoints.setdefault(item.seq, []).append(_Checkpoint("file", item))
        in_file.add(item.seq)
        file_count += 1
    missing = len(in_db - in_file)
    if missing:
        walk.warnings.append(
            f"{missing} checkpoint(s) in the database have no copy in {checkpoint_path}"
        )
    return db_count, file_count


def _truncated(last_seq: int) -> str:
    if last_seq == 0:
        return "every entry of the log was deleted"
    return f"the log was truncated after seq {last_seq}"


def _check_tail(walk: _Walk) -> None:
    """What lies beyond the walked entries: later checkpoints, and the head record."""
    for seq in sorted(walk.checkpoints):
        for found in walk.checkpoints[seq]:
            why = _check_signature(walk.keys, found)
            if why is not None:
                raise _Found(
                    Problem(
                        "bad_checkpoint",
                        seq,
                        f"the checkpoint at seq {seq} in the {found.source} is not signed by "
                        f"this node: {why}",
                    )
                )
        # Entries appended while we walked are there now; a removed tail is not.
        live = AuditEntry.objects.filter(seq=seq).values_list("entry_hash", flat=True).first()
        if live is None:
            source = " and ".join(sorted({f.source for f in walk.checkpoints[seq]}))
            raise _Found(
                Problem(
                    "truncated",
                    walk.last_seq + 1,
                    f"{_truncated(walk.last_seq)}: a checkpoint signed at seq {seq} "
                    f"(in the {source}) names entries that are gone",
                )
            )
        for found in walk.checkpoints[seq]:
            if found.signed.entry_hash != live:
                raise _Found(
                    Problem(
                        "recomputed",
                        seq,
                        f"entry {seq} does not match the checkpoint signed for it ({found.source})",
                    )
                )
    head = AuditHead.objects.filter(pk=1).values_list("seq", "entry_hash").first()
    if head is None:
        if walk.last_seq:
            raise _Found(Problem("head", walk.last_seq, "the chain head record is missing"))
        return
    head_seq, head_hash = int(head[0]), str(head[1])
    if head_seq < walk.last_seq:
        raise _Found(
            Problem(
                "head",
                head_seq + 1,
                f"the chain head record says seq {head_seq} but the log goes on to seq "
                f"{walk.last_seq}",
            )
        )
    if head_seq == walk.last_seq and head_hash != walk.head_hash:
        raise _Found(
            Problem(
                "head",
                head_seq,
                f"the chain head record does not match entry {head_seq}: the tail was rewritten",
            )
        )
    if head_seq > walk.last_seq and not AuditEntry.objects.filter(seq=head_seq).exists():
        raise _Found(
            Problem(
                "truncated",
                walk.last_seq + 1,
                f"{_truncated(walk.last_seq)}: the chain head record says it reached "
                f"seq {head_seq}",
            )
        )


def verify_chain(
    keys: KeyRing | None = None,
    *,
    checkpoint_path: Path | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Walk the whole chain; the result names the first problem, or says it is intact.

    `keys` defaults to the node's key ring, `checkpoint_path` to the node's checkpoint file.
    `progress(done, total)` is called now and then during the walk (total is an estimate).
    """
    started = time.monotonic()
    path = checkpoint_path or checkpoint_file()
    problem: Problem | None = None
    try:
        ring = keys or keyring()
    except KeyRingError as exc:
        problem = Problem("keys", None, f"cannot read the node's keys: {exc}")
        return VerifyResult(0, 0, GENESIS, 0, 0, 0, problem)
    walk = _Walk(ring, {})
    db_count = file_count = 0
    try:
        db_count, file_count = _load_checkpoints(walk, path)
        head = AuditHead.objects.filter(pk=1).values_list("seq", flat=True).first()
        total = int(head or 0)
        rows = AuditEntry.objects.order_by("seq").values_list(*_COLUMNS).iterator(chunk_size=_CHUNK)
        _walk_entries(walk, rows, total, progress)
        if progress is not None:
            progress(walk.entries, max(total, walk.entries))
        _check_tail(walk)
    except _Found as found:
        problem = found.problem
    return VerifyResult(
        entries=walk.entries,
        last_seq=walk.last_seq,
        head_hash=walk.head_hash,
        checkpoints_db=db_count,
        checkpoints_file=file_count,
        last_checkpoint=walk.last_good_checkpoint,
        problem=problem,
        warnings=tuple(walk.warnings),
        seconds=time.monotonic() - started,
    )
