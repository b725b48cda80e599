"""A file-backed bank of hashes with ids: PDQ in the multi-index, MD5/SHA-256 exact.

This is the engine-level bank the `haven` command builds and scans against; the platform's
database banks (with classification, policies and audit) keep one of these in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from haven.index.formats import HashRecord
from haven.index.mih import IndexFileError, MultiIndexHash

__all__ = ["BankIndex", "BankMatch", "VideoBankMatch"]

_EXACT_SIGNALS = {"md5": 16, "sha256": 32}
VIDEO_QUALITY_THRESHOLD = 50
VIDEO_BANKED_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class BankMatch:
    """One bank entry a hash matched; `video` names the banked video a frame belongs to."""

    id: str
    signal: str
    distance: int
    video: str = ""


@dataclass(frozen=True, slots=True)
class VideoBankMatch:
    """A banked video found in an upload by vPDQ's rule."""

    video: str
    banked_share: float
    banked_frames_matched: int
    banked_frames_total: int


def _pack_ids(ids: Sequence[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    encoded = [i.encode() for i in ids]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    starts = np.concatenate([np.zeros(1, np.int64), ends])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.zeros(0, np.uint8)
    return blob, starts


def _unpack_ids(blob: NDArray[np.generic], starts: NDArray[np.generic]) -> list[str]:
    raw = bytes(np.asarray(blob, dtype=np.uint8))
    bounds = np.asarray(starts, dtype=np.int64).tolist()
    return [raw[a:b].decode() for a, b in itertools.pairwise(bounds)]


class BankIndex:
    """PDQ entries searched by Hamming distance, exact hashes by equality, all with ids."""

    def __init__(self, records: Iterable[HashRecord] = ()) -> None:
        pdq_ids: list[str] = []
        pdq_groups: list[str] = []
        pdq_hashes: list[bytes] = []
        self._exact: dict[str, dict[bytes, list[str]]] = {name: {} for name in _EXACT_SIGNALS}
        for record in records:
            if record.signal == "pdq":
                is_frame = "frame" in record.metadata
                if is_frame and int(record.metadata.get("quality", 100)) < VIDEO_QUALITY_THRESHOLD:
                    continue  # vPDQ's rule ignores low-quality frames on both sides
                pdq_ids.append(record.id)
                pdq_groups.append(record.source if is_frame else "")
                pdq_hashes.append(record.hash)
            elif record.signal in self._exact:
                self._exact[record.signal].setdefault(record.hash, []).append(record.id)
            else:
                raise ValueError(f"{record.id}: signal type {record.signal!r} cannot be banked")
        self._pdq_ids = pdq_ids
        self._pdq_groups = pdq_groups
        array = np.frombuffer(b"".join(pdq_hashes), dtype=np.uint8).reshape(-1, 32)
        self._pdq = MultiIndexHash(array)

    def __len__(self) -> int:
        return len(self._pdq) + sum(
            len(ids) for table in self._exact.values() for ids in table.values()
        )

    @property
    def pdq(self) -> MultiIndexHash:
        return self._pdq

    def counts(self) -> dict[str, int]:
        exact = {name: sum(len(v) for v in table.values()) for name, table in self._exact.items()}
        return {"pdq": len(self._pdq), **exact}

    def match_pdq(self, hashes: Sequence[bytes], radius: int = 31) -> list[list[BankMatch]]:
        """Matches for each PDQ hash, nearest first."""
        if not hashes:
            return []
        found = self._pdq.search(b"".join(hashes), radius).grouped(len(hashes))
        ids, groups = self._pdq_ids, self._pdq_groups
        return [[BankMatch(ids[s], "pdq", d, groups[s]) for s, d in row] for row in found]

    def match_video_frames(
        self, frames: Sequence[tuple[bytes, int]], radius: int = 31
    ) -> list[VideoBankMatch]:
        """Banked videos found in an upload's (pdq, quality) frames, by vPDQ's rule.

        A banked video matches when at least 80 % of its distinct good-quality frames lie
        within `radius` of some good-quality upload frame; the upload's own share may be
        small, so a known clip inside a longer compilation is still found.
        """
        good = list(dict.fromkeys(h for h, q in frames if q >= VIDEO_QUALITY_THRESHOLD))
        if not good:
            return []
        found = self._pdq.search(b"".join(good), radius)
        matched: dict[str, set[bytes]] = {}
        for slot in np.unique(found.slot).tolist():
            group = self._pdq_groups[slot]
            if group:
                matched.setdefault(group, set()).add(self._pdq.hash_of(slot))
        totals = self._video_totals()
        results = []
        for group, hashes in matched.items():
            share = len(hashes) / totals[group]
            if share >= VIDEO_BANKED_SHARE:
                results.append(VideoBankMatch(group, share, len(hashes), totals[group]))
        return sorted(results, key=lambda m: (-m.banked_share, m.video))

    def _video_totals(self) -> dict[str, int]:
        """Distinct frame hashes of each banked video."""
        distinct: dict[str, set[bytes]] = {}
        for slot, group in enumerate(self._pdq_groups):
            if group and self._pdq.is_live(slot):
                distinct.setdefault(group, set()).add(self._pdq.hash_of(slot))
        return {group: len(hashes) for group, hashes in distinct.items()}

    def match_exact(self, signal: str, digest: bytes) -> list[BankMatch]:
        return [BankMatch(i, signal, 0) for i in self._exact[signal].get(digest, [])]

    def save(self, path: str | Path) -> None:
        blob, starts = _pack_ids(self._pdq_ids)
        group_blob, group_starts = _pack_ids(self._pdq_groups)
        extra: dict[str, NDArray[np.generic]] = {
            "pdq_id_blob": blob,
            "pdq_id_starts": starts,
            "pdq_group_blob": group_blob,
            "pdq_group_starts": group_starts,
        }
        for name, width in _EXACT_SIGNALS.items():
            table = self._exact[name]
            digests = [d for d, ids in table.items() for _ in ids]
            ids = [i for ids in table.values() for i in ids]
            extra[f"{name}_hashes"] = np.frombuffer(b"".join(digests), np.uint8).reshape(-1, width)
            extra[f"{name}_id_blob"], extra[f"{name}_id_starts"] = _pack_ids(ids)
        self._pdq.save(path, extra)

    @classmethod
    def load(cls, path: str | Path) -> BankIndex:
        index, extra = MultiIndexHash.load(path)
        bank = cls.__new__(cls)
        try:
            bank._pdq = index
            bank._pdq_ids = _unpack_ids(extra["pdq_id_blob"], extra["pdq_id_starts"])
            bank._pdq_groups = _unpack_ids(extra["pdq_group_blob"], extra["pdq_group_starts"])
            bank._exact = {}
            for name in _EXACT_SIGNALS:
                ids = _unpack_ids(extra[f"{name}_id_blob"], extra[f"{name}_id_starts"])
                table: dict[bytes, list[str]] = {}
                for row, entry_id in zip(extra[f"{name}_hashes"], ids, strict=True):
                    table.setdefault(bytes(row), []).append(entry_id)
                bank._exact[name] = table
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise IndexFileError(f"{path}: not a Haven bank index ({exc})") from None
        if not len(bank._pdq_ids) == len(bank._pdq_groups) == index.slots:
            raise IndexFileError(f"{path}: ids and hashes disagree in number")
        return bank
