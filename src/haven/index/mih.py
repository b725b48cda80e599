"""Exact Hamming range search over 256-bit hashes by multi-index hashing (MIH).

A hash is cut into m chunks ("tables") of 16-24 bits. If two hashes differ in at most r
bits, then for any per-table thresholds t_i with sum(t_i + 1) >= r + 1, some chunk i
differs in at most t_i bits (the generalised pigeonhole principle). So a query probes, in
each table, the buckets within t_i bits of its own chunk and verifies the candidates on all
256 bits. Nothing is approximate: results equal brute force, which the tests check against
an independent oracle.

The cost is memory latency, not arithmetic: every probed bucket and every candidate row
is a scattered read. Keys of about log2(N) bits keep buckets near one entry, so m is
chosen from N by a cost model under a memory budget (`plan_tables`): 16 tables of 16 bits
for small indexes, 11 of 23-24 bits at 10M, where a radius-31 query reads ~2.8k buckets and
~3k candidates instead of 272 buckets and ~41k candidates with 16-bit chunks.

Layout: each table is a CSR array (2**bits + 1 bucket offsets and one uint32 slot per
hash), the hashes are one contiguous N x 32 array, and the C loop prefetches candidate
rows ahead. Memory per hash: 32 bytes of hash + 4m bytes of postings + 1 tombstone byte +
the offsets (47 bytes per hash at 10M with m = 11: 124 bytes in all).

Changes never rebuild the index on the spot: additions go to a small delta segment that is
scanned by brute force and merged when it reaches `delta_limit`; removals set a tombstone
that the search checks before reporting, so a removed hash stops matching at once.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import mmap
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from haven.index import _mihcore

__all__ = [
    "HASH_BYTES",
    "IndexFileError",
    "Matches",
    "MultiIndexHash",
    "TablePlan",
    "as_hash_array",
    "plan_tables",
    "table_thresholds",
]

HASH_BYTES = 32
HASH_BITS = 256
_MAGIC = b"HAVENMIH"
_FORMAT_VERSION = 2
_ALIGN = 4096
# Largest per-table threshold the index probes; beyond it a full scan is cheaper.
_MAX_THRESHOLD = 5
# Relative costs in the planner, calibrated on this 2-core machine. A probed bucket (an
# offset read and the start of its postings) costs about what a candidate row does: fitted
# on 1M hashes at radius 31 over 11-16 tables (24 ns each; the offsets of nearby keys
# share cache lines). With 3:1, 1M got 16 tables at 106 us/query instead of 14 at 81.
_PROBE_COST = 1.0
_CANDIDATE_COST = 1.0
# A full scan reads rows sequentially: far cheaper per row than a scattered read.
_SCAN_COST_PER_ROW = 0.02
# Memory budget per hash for the planner (hash + postings + offsets + tombstone).
_BYTES_PER_HASH_BUDGET = 128


class IndexFileError(ValueError):
    """An index file that is not Haven's, or is damaged; the message says which."""


TablePlan = tuple[tuple[int, int], ...]  # (start bit, key bits) per table


def _split_bits(tables: int) -> TablePlan:
    """Cut 256 bits into `tables` consecutive keys whose lengths differ by at most one."""
    base, longer = divmod(HASH_BITS, tables)
    plan, start = [], 0
    for table in range(tables):
        bits = base + (1 if table < longer else 0)
        plan.append((start, bits))
        start += bits
    return tuple(plan)


@functools.cache
def _probes(bits: int, threshold: int) -> int:
    """Buckets within `threshold` bits of a key of `bits` bits."""
    return sum(math.comb(bits, w) for w in range(threshold + 1)) if threshold >= 0 else 0


def _plan_thresholds(plan: TablePlan, n: int, radius: int) -> tuple[list[int], float]:
    """Thresholds with sum(t + 1) >= radius + 1 at the least estimated cost, and that cost.

    Greedy on marginal cost is optimal here because each table's cost is convex in t.
    """
    thresholds = [-1] * len(plan)
    cost = 0.0
    for _ in range(radius + 1):
        best, best_cost = -1, math.inf
        for table, (_, bits) in enumerate(plan):
            t = thresholds[table]
            if t >= min(bits, _MAX_THRESHOLD):
                continue
            extra = _probes(bits, t + 1) - _probes(bits, t)
            marginal = extra * (_PROBE_COST + _CANDIDATE_COST * n / 2**bits)
            if marginal < best_cost:
                best, best_cost = table, marginal
        if best < 0:
            return thresholds, math.inf
        thresholds[best] += 1
        cost += best_cost
    return thresholds, cost


def plan_tables(
    n: int, radius: int = 31, bytes_per_hash: int = _BYTES_PER_HASH_BUDGET
) -> TablePlan:
    """How many tables, of how many bits, suit an index of n hashes searched at `radius`.

    Candidates are the tables from 11 (23-24-bit keys) to 16 (16-bit keys) whose memory fits
    `bytes_per_hash` (16 tables always do: their offsets are a fixed 4 MiB); the cheapest
    by the cost model wins. A larger budget buys longer keys, which pay most on real,
    clustered hash lists, whose short-key buckets are lumpy.
    """
    best_plan, best_cost = _split_bits(16), math.inf
    for tables in range(11, 17):
        plan = _split_bits(tables)
        offsets = sum(2**bits + 1 for _, bits in plan) * 4
        per_hash = HASH_BYTES + 1 + 4 * tables + offsets / max(n, 1)
        if tables != 16 and per_hash > bytes_per_hash:
            continue
        _, cost = _plan_thresholds(plan, n, radius)
        if cost < best_cost:
            best_plan, best_cost = plan, cost
    return best_plan


def table_thresholds(
    plan: TablePlan, n: int, radius: int, *, force: bool = False
) -> NDArray[np.int8] | None:
    """Per-table thresholds for `radius` (-1: table not probed), or None when a full scan
    is estimated cheaper than probing (unless `force`) or the radius cannot be probed."""
    thresholds, cost = _plan_thresholds(plan, n, radius)
    if math.isinf(cost) or (not force and cost > _SCAN_COST_PER_ROW * n + 64):
        return None
    return np.array(thresholds, dtype=np.int8)


@functools.cache
def _masks(bits: int, threshold: int) -> NDArray[np.uint32]:
    """Every XOR mask of weight <= threshold over `bits` bits, lightest first."""
    masks = [0]
    for weight in range(1, threshold + 1):
        for positions in itertools.combinations(range(bits), weight):
            masks.append(sum(1 << p for p in positions))
    return np.array(masks, dtype=np.uint32)


def as_hash_array(hashes: Iterable[bytes] | NDArray[np.uint8] | bytes) -> NDArray[np.uint8]:
    """Hashes as a C-contiguous (n, 32) uint8 array, without copying when already one."""
    if isinstance(hashes, np.ndarray):
        array = hashes
    elif isinstance(hashes, bytes | bytearray | memoryview):
        array = np.frombuffer(hashes, dtype=np.uint8)
    else:
        items = [bytes(h) for h in hashes]
        wrong = next((i for i, h in enumerate(items) if len(h) != HASH_BYTES), None)
        if wrong is not None:
            raise ValueError(f"hash {wrong} has {len(items[wrong])} bytes, not {HASH_BYTES}")
        array = np.frombuffer(b"".join(items), dtype=np.uint8)
    if array.dtype != np.uint8:
        raise TypeError(f"hashes must be uint8, got {array.dtype}")
    if array.ndim == 1:
        if array.size % HASH_BYTES:
            raise ValueError(f"hash bytes must be a multiple of {HASH_BYTES}, got {array.size}")
        array = array.reshape(-1, HASH_BYTES)
    if array.ndim != 2 or array.shape[1] != HASH_BYTES:
        raise ValueError(f"hashes must have shape (n, {HASH_BYTES}), got {array.shape}")
    return np.ascontiguousarray(array)


@dataclass(frozen=True, slots=True)
class Matches:
    """Flat search results, sorted by query, then distance, then slot."""

    query: NDArray[np.int64]
    slot: NDArray[np.int64]
    distance: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.query.size)

    def for_query(self, index: int) -> list[tuple[int, int]]:
        """(slot, distance) pairs of one query, nearest first."""
        lo, hi = np.searchsorted(self.query, [index, index + 1])
        return list(zip(self.slot[lo:hi].tolist(), self.distance[lo:hi].tolist(), strict=True))

    def grouped(self, queries: int) -> list[list[tuple[int, int]]]:
        """(slot, distance) pairs for each of `queries` queries."""
        bounds = np.searchsorted(self.query, np.arange(queries + 1))
        slots, distances = self.slot.tolist(), self.distance.tolist()
        return [
            list(zip(slots[lo:hi], distances[lo:hi], strict=True))
            for lo, hi in itertools.pairwise(bounds.tolist())
        ]


def _sorted_matches(parts: list[tuple[bytes, bytes, bytes]], slot_offsets: list[int]) -> Matches:
    queries, slots, distances = [], [], []
    for (q, s, d), offset in zip(parts, slot_offsets, strict=True):
        queries.append(np.frombuffer(q, dtype=np.uint32).astype(np.int64))
        slots.append(np.frombuffer(s, dtype=np.uint32).astype(np.int64) + offset)
        distances.append(np.frombuffer(d, dtype=np.uint16).astype(np.int64))
    query, slot, distance = (np.concatenate(x) for x in (queries, slots, distances))
    order = np.lexsort((slot, distance, query))
    return Matches(query=query[order], slot=slot[order], distance=distance[order])


def _build_tables(
    hashes: NDArray[np.uint8], plan: TablePlan
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """Concatenated CSR offsets and (tables, n) postings, by counting sort in C."""
    n = hashes.shape[0]
    if n >= 2**32 - 1:
        raise ValueError("an index segment holds fewer than 2**32 - 1 hashes; shard it")
    offsets, postings = [], np.empty((len(plan), n), dtype=np.uint32)
    for table, (start, bits) in enumerate(plan):
        table_offsets, table_postings = _mihcore.build(hashes, start, bits)
        offsets.append(np.frombuffer(table_offsets, dtype=np.uint32))
        postings[table] = np.frombuffer(table_postings, dtype=np.uint32)
    return np.concatenate(offsets), postings


class MultiIndexHash:
    """An exact, incrementally updatable range-search index over 256-bit hashes.

    Entries are identified by *slots*: consecutive integers in order of addition, stable
    for the life of the index (removal leaves a tombstone; `compacted` renumbers).
    `tables` fixes the number of tables (11-16) instead of planning it from the size;
    `bytes_per_hash` is the planner's memory budget (default 128), kept for later merges.
    """

    def __init__(
        self,
        hashes: NDArray[np.uint8] | None = None,
        *,
        delta_limit: int = 16384,
        tables: int | None = None,
        bytes_per_hash: int = _BYTES_PER_HASH_BUDGET,
    ):
        if tables is not None and not 11 <= tables <= 16:
            raise ValueError(f"tables must be 11..16, got {tables}")
        if bytes_per_hash < 1:
            raise ValueError(f"bytes_per_hash must be positive, got {bytes_per_hash}")
        self.delta_limit = delta_limit
        self._fixed_tables = tables
        self._bytes_per_hash = bytes_per_hash
        given = hashes if hashes is not None else np.empty((0, HASH_BYTES), np.uint8)
        # A private copy: the caller changing its array must not desynchronise the tables.
        main = as_hash_array(given).copy()
        self._delta = np.empty((64, HASH_BYTES), dtype=np.uint8)
        self._delta_count = 0
        self._dead = np.zeros(main.shape[0] + self._delta.shape[0], dtype=np.uint8)
        self._live = int(main.shape[0])
        self._index(main)

    def _index(self, main: NDArray[np.uint8]) -> None:
        n = main.shape[0]
        self._plan = (
            _split_bits(self._fixed_tables)
            if self._fixed_tables
            else plan_tables(n, bytes_per_hash=self._bytes_per_hash)
        )
        self._main = main
        self._offsets, self._postings = _build_tables(main, self._plan)
        self._search_plans: dict[
            tuple[int, bool], tuple[NDArray[np.int64], NDArray[np.uint32]] | None
        ] = {}

    # -- size -------------------------------------------------------------------------
    def __len__(self) -> int:
        """Live (not removed) entries."""
        return self._live

    @property
    def slots(self) -> int:
        """Slots ever assigned, removed ones included."""
        return int(self._main.shape[0]) + self._delta_count

    @property
    def plan(self) -> TablePlan:
        """(start bit, key bits) of each table."""
        return self._plan

    def memory_bytes(self) -> dict[str, int]:
        """What each part of the index costs in memory, in bytes."""
        return {
            "hashes": int(self._main.nbytes) + self._delta_count * HASH_BYTES,
            "postings": int(self._postings.nbytes),
            "bucket_offsets": int(self._offsets.nbytes),
            "tombstones": self.slots,
        }

    def hash_of(self, slot: int) -> bytes:
        main = self._main.shape[0]
        if not 0 <= slot < self.slots:
            raise IndexError(f"no slot {slot}")
        row = self._main[slot] if slot < main else self._delta[slot - main]
        return bytes(row)

    def is_live(self, slot: int) -> bool:
        return 0 <= slot < self.slots and not self._dead[slot]

    # -- changes ----------------------------------------------------------------------
    def add(self, hashes: Iterable[bytes] | NDArray[np.uint8] | bytes) -> NDArray[np.int64]:
        """Add hashes; returns their slots. Searchable as soon as this returns."""
        new = as_hash_array(hashes)
        first, count = self.slots, new.shape[0]
        if self._delta_count + count > self._delta.shape[0]:
            capacity = max(self._delta.shape[0] * 2, self._delta_count + count)
            grown = np.empty((capacity, HASH_BYTES), dtype=np.uint8)
            grown[: self._delta_count] = self._delta[: self._delta_count]
            self._delta = grown
        self._delta[self._delta_count : self._delta_count + count] = new
        self._delta_count += count
        if self._dead.shape[0] < self.slots:
            grown_dead = np.zeros(max(self.slots, 2 * self._dead.shape[0]), dtype=np.uint8)
            grown_dead[: self._dead.shape[0]] = self._dead
            self._dead = grown_dead
        self._live += count
        if self._delta_count >= self.delta_limit:
            self.merge()
        return np.arange(first, first + count, dtype=np.int64)

    def remove(self, slots: Iterable[int]) -> int:
        """Tombstone slots; they stop matching immediately. Returns how many were live."""
        removed = 0
        for slot in slots:
            if self.is_live(slot):
                self._dead[slot] = 1
                removed += 1
        self._live -= removed
        return removed

    def restore(self, slots: Iterable[int]) -> int:
        """Undo `remove` (a re-enabled bank entry). Returns how many came back."""
        restored = 0
        for slot in slots:
            if 0 <= slot < self.slots and self._dead[slot]:
                self._dead[slot] = 0
                restored += 1
        self._live += restored
        return restored

    def merge(self) -> None:
        """Fold the delta segment into the indexed tables (linear time, counting sort)."""
        if not self._delta_count:
            return
        merged = np.concatenate([self._main, self._delta[: self._delta_count]])
        self._delta_count = 0
        self._index(merged)

    def compacted(self) -> tuple[MultiIndexHash, NDArray[np.int64]]:
        """A new index without removed entries, and old slot -> new slot (-1 if removed)."""
        everything = np.concatenate([self._main, self._delta[: self._delta_count]])
        keep = self._dead[: self.slots] == 0
        mapping = np.full(self.slots, -1, dtype=np.int64)
        mapping[keep] = np.arange(int(keep.sum()), dtype=np.int64)
        compact = MultiIndexHash(
            everything[keep],
            delta_limit=self.delta_limit,
            tables=self._fixed_tables,
            bytes_per_hash=self._bytes_per_hash,
        )
        return compact, mapping

    # -- search -----------------------------------------------------------------------
    def _search_plan(
        self, radius: int, force: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.uint32]] | None:
        """The C loop's table rows and probe masks for `radius`, or None for a full scan."""
        if (radius, force) in self._search_plans:
            return self._search_plans[radius, force]
        thresholds = table_thresholds(self._plan, int(self._main.shape[0]), radius, force=force)
        result = None
        if thresholds is not None:
            rows, masks, offsets_base, masks_base = [], [], 0, 0
            for (start, bits), threshold in zip(self._plan, thresholds.tolist(), strict=True):
                table_masks = _masks(bits, max(threshold, 0))
                count = len(table_masks) if threshold >= 0 else 0
                rows.append([start, bits, threshold, offsets_base, masks_base, count])
                masks.append(table_masks[:count])
                offsets_base += 2**bits + 1
                masks_base += count
            result = (np.array(rows, dtype=np.int64), np.concatenate(masks))
        self._search_plans[radius, force] = result
        return result

    def search(
        self,
        queries: Iterable[bytes] | NDArray[np.uint8] | bytes,
        radius: int = 31,
        *,
        strategy: str = "auto",
    ) -> Matches:
        """All live entries within `radius` bits of each query, exactly.

        `strategy` is "auto" (probe the tables unless a full scan is estimated cheaper),
        "index" (always probe; for tests) or "scan".
        """
        if not 0 <= radius <= HASH_BITS:
            raise ValueError(f"radius must be 0..{HASH_BITS}, got {radius}")
        if strategy not in ("auto", "index", "scan"):
            raise ValueError(f"unknown search strategy {strategy!r}")
        batch = as_hash_array(queries)
        main = self._main.shape[0]
        dead = self._dead
        plan = self._search_plan(radius, strategy == "index") if strategy != "scan" else None
        if plan is None and strategy == "index":
            raise ValueError(f"radius {radius} is too large to probe; use a scan")
        parts: list[tuple[bytes, bytes, bytes]] = []
        if plan is not None:
            rows, masks = plan
            try:
                parts.append(
                    _mihcore.search(
                        batch, self._main, self._offsets, self._postings, dead[:main],
                        rows, masks, radius,
                    )
                )  # fmt: skip
            except ValueError as exc:
                raise IndexFileError(str(exc)) from None
        else:
            parts.append(_mihcore.scan(batch, self._main, dead[:main], radius))
        delta = self._delta[: self._delta_count]
        parts.append(_mihcore.scan(batch, delta, dead[main : self.slots], radius))
        return _sorted_matches(parts, [0, main])

    def search_one(self, query: bytes, radius: int = 31) -> list[tuple[int, int]]:
        """(slot, distance) of every live entry within `radius` of one hash, nearest first."""
        return self.search(query, radius).for_query(0)

    # -- files ------------------------------------------------------------------------
    def save(
        self, path: str | Path, extra: Mapping[str, NDArray[np.generic]] | None = None
    ) -> None:
        """Write the index (and optional named arrays) to one memory-mappable file.

        The delta is merged first, so the file holds only indexed tables. Written to a
        temporary name, synced and renamed, so a crash never leaves a half-written index.
        """
        self.merge()
        sections: dict[str, NDArray[np.generic]] = {
            "hashes": self._main,
            "offsets": self._offsets,
            "postings": self._postings,
            "dead": self._dead[: self.slots],
        }
        for name, array in (extra or {}).items():
            sections[f"extra.{name}"] = np.ascontiguousarray(array)
        meta = {
            "delta_limit": self.delta_limit,
            "plan": [list(t) for t in self._plan],
            "fixed_tables": self._fixed_tables,
            "bytes_per_hash": self._bytes_per_hash,
        }
        _write_sections(Path(path), sections, meta)

    @classmethod
    def load(
        cls, path: str | Path, *, memory_map: bool = True
    ) -> tuple[MultiIndexHash, dict[str, NDArray[np.generic]]]:
        """Open a saved index; with `memory_map` the big arrays are paged in on demand."""
        sections, meta = _read_sections(Path(path), memory_map)
        index = cls.__new__(cls)
        try:
            hashes = sections["hashes"]
            plan = tuple((int(start), int(bits)) for start, bits in meta["plan"])  # type: ignore[attr-defined]
            index.delta_limit = int(meta.get("delta_limit", 16384))  # type: ignore[call-overload]
            fixed = meta.get("fixed_tables")
            index._fixed_tables = int(fixed) if fixed is not None else None  # type: ignore[call-overload]
            budget = meta.get("bytes_per_hash", _BYTES_PER_HASH_BUDGET)
            index._bytes_per_hash = int(budget)  # type: ignore[call-overload]
            index._plan = plan
            index._main = hashes  # type: ignore[assignment]
            index._offsets = sections["offsets"]  # type: ignore[assignment]
            index._postings = sections["postings"]  # type: ignore[assignment]
            index._dead = np.array(sections["dead"], dtype=np.uint8)  # writable copy
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFileError(f"{path}: index file is incomplete or damaged: {exc}") from None
        n = hashes.shape[0]
        expected_offsets = sum(2**bits + 1 for _, bits in plan)
        dtypes = {"hashes": np.uint8, "offsets": np.uint32, "postings": np.uint32, "dead": np.uint8}
        for name, dtype in dtypes.items():
            if sections[name].dtype != np.dtype(dtype):
                raise IndexFileError(f"{path}: section {name!r} has dtype {sections[name].dtype}")
        ends = np.cumsum([2**bits + 1 for _, bits in plan]) - 1
        if (
            hashes.shape[1:] != (HASH_BYTES,)
            or sum(bits for _, bits in plan) != HASH_BITS
            or index._offsets.shape != (expected_offsets,)
            or index._postings.shape != (len(plan), n)
            or index._dead.shape != (n,)
            or bool(np.any(index._offsets[ends] != n))
        ):
            raise IndexFileError(f"{path}: index sections have inconsistent shapes")
        index._delta = np.empty((64, HASH_BYTES), dtype=np.uint8)
        index._delta_count = 0
        index._dead = np.concatenate([index._dead, np.zeros(64, dtype=np.uint8)])
        index._live = int(n - index._dead.sum())
        index._search_plans = {}
        extra = {k.removeprefix("extra."): v for k, v in sections.items() if k.startswith("extra.")}
        return index, extra


def _write_sections(
    path: Path, sections: Mapping[str, NDArray[np.generic]], meta: dict[str, object]
) -> None:
    table: dict[str, dict[str, object]] = {}
    offset = 0
    for name, array in sections.items():
        table[name] = {
            "offset": offset,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = json.dumps(
        {"version": _FORMAT_VERSION, "sections": table, "meta": meta}, sort_keys=True
    ).encode()
    prefix = _MAGIC + struct.pack("<I", len(header)) + header
    data_start = -(-len(prefix) // _ALIGN) * _ALIGN
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(prefix.ljust(data_start, b"\0"))
        for name, array in sections.items():
            handle.seek(data_start + int(table[name]["offset"]))  # type: ignore[call-overload]
            handle.write(np.ascontiguousarray(array).tobytes())
        handle.truncate(data_start + offset)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _read_sections(
    path: Path, memory_map: bool
) -> tuple[dict[str, NDArray[np.generic]], dict[str, object]]:
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(_MAGIC) + 4)
            if len(start) < len(_MAGIC) + 4 or not start.startswith(_MAGIC):
                raise IndexFileError(f"{path}: not a Haven index file")
            (length,) = struct.unpack("<I", start[len(_MAGIC) :])
            if length > 1 << 20:
                raise IndexFileError(f"{path}: index header is implausibly large")
            header = json.loads(handle.read(length))
            size = handle.seek(0, 2)
        if not isinstance(header, dict) or not isinstance(header.get("sections"), dict):
            raise IndexFileError(f"{path}: damaged index header")
        if not isinstance(header.get("meta", {}), dict) or not all(
            isinstance(spec, dict) for spec in header["sections"].values()
        ):
            raise IndexFileError(f"{path}: damaged index header")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFileError(f"{path}: cannot read the index: {exc}") from None
    if header.get("version") != _FORMAT_VERSION:
        raise IndexFileError(f"{path}: unsupported index format version {header.get('version')}")
    data_start = -(-(len(_MAGIC) + 4 + length) // _ALIGN) * _ALIGN
    arrays: dict[str, NDArray[np.generic]] = {}
    buffer: mmap.mmap | bytes
    with open(path, "rb") as handle:
        buffer = (
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if memory_map else handle.read()
        )
    try:
        for name, spec in header["sections"].items():
            dtype = np.dtype(spec["dtype"])
            shape = tuple(int(x) for x in spec["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            begin = data_start + int(spec["offset"])
            if begin + count * dtype.itemsize > size:
                raise IndexFileError(f"{path}: section {name!r} runs past the end (truncated?)")
            arrays[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=begin).reshape(
                shape
            )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, IndexFileError):
            raise
        raise IndexFileError(f"{path}: damaged index header: {exc}") from None
    return arrays, dict(header.get("meta", {}))
