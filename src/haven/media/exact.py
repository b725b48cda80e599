"""Exact (cryptographic) hashes, streamed so that a 4 GB video never sits in memory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["CHUNK_SIZE", "ExactHashes", "exact_hashes_of_bytes", "exact_hashes_of_file"]

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class ExactHashes:
    md5: str
    sha256: str
    size: int


def _stream(handle: BinaryIO) -> ExactHashes:
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK_SIZE):
        md5.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
    return ExactHashes(md5=md5.hexdigest(), sha256=sha256.hexdigest(), size=size)


def exact_hashes_of_file(path: str | Path) -> ExactHashes:
    """MD5 and SHA-256 of a file in one streamed pass (constant memory)."""
    with open(path, "rb") as handle:
        return _stream(handle)


def exact_hashes_of_bytes(data: bytes) -> ExactHashes:
    return ExactHashes(
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
