"""The in-memory matcher: the engine's index built from the database banks, kept current.

Each server process holds one `Matcher`. It is built from the enabled entries of enabled
banks: PDQ hashes and the good frames of vPDQ videos in one `MultiIndexHash`, MD5 and
SHA-256 in dictionaries; numpy arrays map each index slot to its entry and bank. Lookups
search once at the largest radius any searched bank needs and then keep, per bank, the
hits within that bank's threshold; an allow-list bank that matches a hash suppresses the
other banks' matches for it.

Staying current: every change to a bank writes a `BankChange` row (see
`haven.banks.services`). `sync()` reads the rows after its cursor — a cheap primary-key
range query, run at most every 0.25 s, on the next lookup — and applies them in place:
one entry added or removed, a range of imported entries added, a bank's settings re-read,
or a bank's entries diffed against the database. When a sync would touch more than a
quarter of the index it rebuilds instead. So an added or disabled entry takes effect in
every process within a second, without a message bus.

Threads (gunicorn's gthread workers): lookups share a read lock and run concurrently;
applying changes takes the write lock briefly, after the database reads are done; a
rebuild is made aside and swapped in. Lookup counts are kept in memory and added to the
hourly `LookupCounter` rows at most every 5 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from numpy.typing import NDArray

from haven.banks.models import Bank, BankChange, BankEntry, LookupCounter
from haven.index.bank import VIDEO_BANKED_SHARE, VIDEO_QUALITY_THRESHOLD
from haven.index.mih import MultiIndexHash

__all__ = [
    "EXACT_SIGNALS",
    "MAX_RADIUS",
    "HashResult",
    "IndexStatus",
    "MatchHit",
    "Matcher",
    "VideoHit",
    "built_matcher",
    "matcher",
    "reset_matcher",
    "warm_up",
]

log = logging.getLogger("haven.banks")
T = TypeVar("T")

MAX_RADIUS = 64
EXACT_SIGNALS = {"md5": 16, "sha256": 32}
SYNC_INTERVAL = 0.25
FLUSH_INTERVAL = 5.0
REBUILD_SHARE = 0.25
_REBUILD_MIN = 1000  # small syncs never rebuild, whatever the share
_MAX_CHANGES = 20_000  # more rows than this in one sync: rebuild
_GAP_SECONDS = 60.0  # how long an id skipped by a slow transaction is waited for
_MAX_GAPS = 10_000
_FETCH = 10_000
COMPACT_MIN = 10_000  # tombstones before compaction is worth it


@dataclass(frozen=True, slots=True)
class MatchHit:
    """One bank entry a hash matched."""

    bank_id: int
    bank: str
    entry_id: int
    external_id: str
    distance: int
    classification: str
    signal_type: str


@dataclass(frozen=True, slots=True)
class HashResult:
    """The outcome for one looked-up hash.

    `matches` are the hits that count. When an allow-list bank matched, the other banks'
    hits move to `suppressed` and the allow-list hits are in `allowed_by`.
    """

    hash: str
    matches: list[MatchHit]
    suppressed: list[MatchHit] = field(default_factory=list)
    allowed_by: list[MatchHit] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VideoHit:
    """A banked vPDQ video found in an upload's frames (≥ 80 % of its good frames)."""

    bank_id: int
    bank: str
    entry_id: int
    external_id: str
    banked_share: float
    frames_matched: int
    frames_total: int
    classification: str
    allow_list: bool = False


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """What the matcher of this process holds; `entries` counts live entries per signal."""

    entries: dict[str, int]
    banks: int
    cursor: int
    built_at: datetime | None
    synced_at: datetime | None
    memory_bytes: int
    lookups_total: int


@dataclass(frozen=True, slots=True)
class _BankInfo:
    id: int
    name: str
    threshold: int
    is_allow_list: bool
    enabled: bool


# A database row of an entry as the index needs it: pk, bank, signal, hash, frames.
_Row = tuple[int, int, str, bytes, bytes | None]


class _RWLock:
    """Many readers or one writer; a waiting writer holds off new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def _good_frames(blob: bytes | None) -> list[bytes]:
    """A video's distinct frame hashes of matchable quality, in order."""
    raw = _bytes(blob or b"")
    good = (
        raw[i + 1 : i + 33]
        for i in range(0, len(raw) - 32, 33)
        if raw[i] >= VIDEO_QUALITY_THRESHOLD
    )
    return list(dict.fromkeys(good))


class _State:
    """The index and its maps. Mutated only under the matcher's write lock."""

    def __init__(self, banks: dict[int, _BankInfo]) -> None:
        self.banks = banks
        self.mih = MultiIndexHash(bytes_per_hash=settings.HAVEN.index_bytes_per_hash)
        capacity = 1024
        self.slot_entry = np.zeros(capacity, dtype=np.int64)
        self.slot_bank = np.zeros(capacity, dtype=np.int64)
        self.slot_video = np.zeros(capacity, dtype=np.bool_)
        self.slot_live = np.zeros(capacity, dtype=np.bool_)
        self.slots = 0
        self.pdq_live = 0
        self.exact: dict[str, dict[bytes, list[tuple[int, int]]]] = {s: {} for s in EXACT_SIGNALS}
        self.exact_of: dict[int, tuple[str, bytes, int]] = {}
        self.video_totals: dict[int, int] = {}
        self.video_bank: dict[int, int] = {}

    # -- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, banks: dict[int, _BankInfo], rows: Sequence[_Row]) -> _State:
        state = cls(banks)
        pdq: list[bytes] = []
        entries: list[int] = []
        owners: list[int] = []
        video: list[bool] = []
        for pk, bank, signal, digest, frames in rows:
            if signal == "pdq":
                pdq.append(_bytes(digest))
                entries.append(pk)
                owners.append(bank)
                video.append(False)
            elif signal == "vpdq":
                good = _good_frames(frames)
                pdq.extend(good)
                entries.extend([pk] * len(good))
                owners.extend([bank] * len(good))
                video.extend([True] * len(good))
                state.video_totals[pk] = len(good)
                state.video_bank[pk] = bank
            elif signal in EXACT_SIGNALS:
                state._add_exact(pk, bank, signal, _bytes(digest))
        array = np.frombuffer(b"".join(pdq), dtype=np.uint8).reshape(-1, 32)
        state.mih = MultiIndexHash(array, bytes_per_hash=settings.HAVEN.index_bytes_per_hash)
        n = len(pdq)
        capacity = max(1024, n + n // 4)
        state.slot_entry = np.zeros(capacity, dtype=np.int64)
        state.slot_bank = np.zeros(capacity, dtype=np.int64)
        state.slot_video = np.zeros(capacity, dtype=np.bool_)
        state.slot_live = np.zeros(capacity, dtype=np.bool_)
        state.slot_entry[:n] = entries
        state.slot_bank[:n] = owners
        state.slot_video[:n] = video
        state.slot_live[:n] = True
        state.slots = n
        state.pdq_live = sum(1 for v in video if not v)
        return state

    # -- counts -----------------------------------------------------------------------
    def live_entries(self) -> int:
        return self.pdq_live + len(self.video_totals) + len(self.exact_of)

    def counts(self) -> dict[str, int]:
        return {
            "pdq": self.pdq_live,
            "vpdq": len(self.video_totals),
            "vpdq_frames": len(self.mih) - self.pdq_live,
            "md5": sum(1 for s, _, _ in self.exact_of.values() if s == "md5"),
            "sha256": sum(1 for s, _, _ in self.exact_of.values() if s == "sha256"),
        }

    def memory_bytes(self) -> int:
        arrays = self.slot_entry.nbytes + self.slot_bank.nbytes
        arrays += self.slot_video.nbytes + self.slot_live.nbytes
        # Dictionaries: a rough 150 bytes per exact entry, 100 per video.
        dicts = 150 * len(self.exact_of) + 100 * len(self.video_totals)
        return int(sum(self.mih.memory_bytes().values()) + arrays + dicts)

    # -- presence ---------------------------------------------------------------------
    def slots_of(self, pks: Collection[int], *, live: bool = True) -> NDArray[np.int64]:
        if not pks or not self.slots:
            return np.zeros(0, dtype=np.int64)
        wanted = np.fromiter(pks, dtype=np.int64, count=len(pks))
        mask = np.isin(self.slot_entry[: self.slots], wanted)
        if live:
            mask &= self.slot_live[: self.slots]
        return np.flatnonzero(mask).astype(np.int64)

    def present(self, pks: Collection[int]) -> set[int]:
        """Which of these entries the index holds now."""
        found = {pk for pk in pks if pk in self.exact_of or pk in self.video_totals}
        rest = [pk for pk in pks if pk not in found]
        if rest:
            slots = self.slots_of(rest)
            found.update(int(x) for x in np.unique(self.slot_entry[slots]).tolist())
        return found

    def bank_entries(self, bank: int) -> set[int]:
        """Entries of one bank the index holds now."""
        mask = (self.slot_bank[: self.slots] == bank) & self.slot_live[: self.slots]
        held = {int(x) for x in np.unique(self.slot_entry[: self.slots][mask]).tolist()}
        held.update(pk for pk, (_, _, b) in self.exact_of.items() if b == bank)
        held.update(pk for pk, b in self.video_bank.items() if b == bank)
        return held

    # -- changes ----------------------------------------------------------------------
    def _add_exact(self, pk: int, bank: int, signal: str, digest: bytes) -> None:
        self.exact[signal].setdefault(digest, []).append((pk, bank))
        self.exact_of[pk] = (signal, digest, bank)

    def _grow(self, needed: int) -> None:
        if needed <= self.slot_entry.shape[0]:
            return
        capacity = max(needed, 2 * self.slot_entry.shape[0])
        for name in ("slot_entry", "slot_bank", "slot_video", "slot_live"):
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self.slots] = old[: self.slots]
            setattr(self, name, grown)

    def add(self, rows: Sequence[_Row]) -> None:
        """Add entries the index does not hold yet (callers filter with `present`)."""
        pdq: list[bytes] = []
        entries: list[int] = []
        owners: list[int] = []
        video: list[bool] = []
        dead = self._dead_slots([r[0] for r in rows if r[2] in ("pdq", "vpdq")])
        revive: list[int] = []
        for pk, bank, signal, digest, frames in rows:
            if signal == "pdq":
                # A re-enabled entry gets its own slot back (its hash never changes), so
                # enable/disable cycles leave no tombstones behind.
                if len(dead.get(pk, ())) == 1:
                    revive.extend(dead[pk])
                else:
                    pdq.append(_bytes(digest))
                    entries.append(pk)
                    owners.append(bank)
                    video.append(False)
                self.pdq_live += 1
            elif signal == "vpdq":
                good = _good_frames(frames)
                if good and len(dead.get(pk, ())) == len(good):
                    revive.extend(dead[pk])
                else:
                    pdq.extend(good)
                    entries.extend([pk] * len(good))
                    owners.extend([bank] * len(good))
                    video.extend([True] * len(good))
                self.video_totals[pk] = len(good)
                self.video_bank[pk] = bank
            elif signal in EXACT_SIGNALS:
                self._add_exact(pk, bank, signal, _bytes(digest))
        if revive:
            self.mih.restore(revive)
            self.slot_live[revive] = True
        if not pdq:
            return
        first = self.slots
        self._grow(first + len(pdq))
        slots = self.mih.add(np.frombuffer(b"".join(pdq), dtype=np.uint8).reshape(-1, 32))
        if int(slots[0]) != first:  # the index and the maps must never disagree
            raise RuntimeError("matcher slots out of step with the index")
        end = first + len(pdq)
        self.slot_entry[first:end] = entries
        self.slot_bank[first:end] = owners
        self.slot_video[first:end] = video
        self.slot_live[first:end] = True
        self.slots = end

    def _dead_slots(self, pks: list[int]) -> dict[int, list[int]]:
        """Removed slots of these entries, by entry."""
        if not pks or len(self.mih) == self.slots:
            return {}
        wanted = np.array(pks, dtype=np.int64)
        mask = np.isin(self.slot_entry[: self.slots], wanted) & ~self.slot_live[: self.slots]
        out: dict[int, list[int]] = {}
        for slot in np.flatnonzero(mask).tolist():
            out.setdefault(int(self.slot_entry[slot]), []).append(slot)
        return out

    def remove(self, pks: Collection[int]) -> None:
        pks = set(pks)
        for pk in [pk for pk in pks if pk in self.exact_of]:
            signal, digest, _ = self.exact_of.pop(pk)
            kept = [item for item in self.exact[signal].get(digest, []) if item[0] != pk]
            if kept:
                self.exact[signal][digest] = kept
            else:
                self.exact[signal].pop(digest, None)
        slots = self.slots_of(pks)
        if slots.size:
            self.pdq_live -= int((~self.slot_video[slots]).sum())
            self.mih.remove(slots.tolist())
            self.slot_live[slots] = False
        for pk in pks:
            self.video_totals.pop(pk, None)
            self.video_bank.pop(pk, None)

    def compact_if_needed(self) -> None:
        """Drop tombstones once they outnumber the live slots (and there are many)."""
        live = len(self.mih)
        dead = self.slots - live
        if dead < COMPACT_MIN or dead < live:
            return
        compact, mapping = self.mih.compacted()
        keep = mapping[: self.slots] >= 0
        n = int(keep.sum())
        for name in ("slot_entry", "slot_bank", "slot_video"):
            old = getattr(self, name)[: self.slots]
            fresh = np.zeros(max(1024, n + n // 4), dtype=old.dtype)
            fresh[:n] = old[keep]
            setattr(self, name, fresh)
        self.slot_live = np.zeros(self.slot_entry.shape[0], dtype=np.bool_)
        self.slot_live[:n] = True
        self.slots = n
        self.mih = compact


def _bank_infos(query: Any = None) -> dict[int, _BankInfo]:
    rows = (query if query is not None else Bank.objects.all()).values_list(
        "pk", "name", "threshold", "is_allow_list", "enabled"
    )
    return {pk: _BankInfo(pk, name, t, allow, on) for pk, name, t, allow, on in rows}


def _fetch_rows(query: Any) -> list[_Row]:
    """Entry rows for the index, read with a plain cursor (the ORM costs ~5x per row)."""
    sql, params = (
        query.order_by()
        .values_list("pk", "bank_id", "signal_type", "hash", "frames")
        .query.sql_with_params()
    )
    rows: list[_Row] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(_FETCH):
            rows.extend(chunk)
    return rows


class Matcher:
    """One process's view of every enabled bank, searched in memory (see the module doc)."""

    def __init__(
        self, *, sync_interval: float = SYNC_INTERVAL, flush_interval: float = FLUSH_INTERVAL
    ) -> None:
        self.sync_interval = sync_interval
        self.flush_interval = flush_interval
        self._state: _State | None = None
        self._rw = _RWLock()
        self._sync_lock = threading.Lock()
        self._checked = 0.0
        self._cursor = 0
        self._cursor_at: datetime | None = None
        self._gaps: dict[int, float] = {}
        self._built_at: datetime | None = None
        self._synced_at: datetime | None = None
        self._count_lock = threading.Lock()
        self._pending = [0, 0, 0]  # lookups, requests, hashes with a match
        self._flushed = time.monotonic()
        self._lookups_total = 0
        self._memo: dict[Hashable, tuple[float, Any]] = {}

    # -- keeping current --------------------------------------------------------------
    def remembered(self, key: Hashable, load: Callable[[], T], ttl: float = SYNC_INTERVAL) -> T:
        """`load()`, kept for `ttl` seconds and until the next change to the banks: for
        per-request lookups around matching (the banks a principal sees) that a client
        sending batches back to back should not pay a query for each time."""
        now = time.monotonic()
        found = self._memo.get(key)
        if found is not None and now - found[0] < ttl:
            return found[1]  # type: ignore[no-any-return]
        value = load()
        if len(self._memo) > 1000:
            self._memo = {}
        self._memo[key] = (now, value)
        return value

    def sync(self, force: bool = False) -> None:
        """Apply the change log (at most every `sync_interval` unless `force`)."""
        recent = time.monotonic() - self._checked < self.sync_interval
        if not force and self._state is not None and recent:
            return
        with self._sync_lock:
            self._sync_locked()

    def _maybe_sync(self) -> None:
        if self._state is None:
            with self._sync_lock:
                if self._state is None:
                    self._sync_locked()
            return
        if time.monotonic() - self._checked < self.sync_interval:
            return
        # Another thread syncing already: search the current snapshot rather than wait.
        if self._sync_lock.acquire(blocking=False):
            try:
                self._sync_locked()
            except Exception:  # the database away for a moment: answer from the snapshot
                log.exception("matcher sync failed; searching the last good index")
            finally:
                self._sync_lock.release()

    def _sync_locked(self) -> None:
        self._checked = time.monotonic()
        if self._state is None:
            self.rebuild()
            return
        wanted = Q(pk__gte=self._cursor)
        if self._gaps:
            wanted |= Q(pk__in=list(self._gaps))
        query = BankChange.objects.filter(wanted)
        rows = list(
            query.order_by("pk").values_list(
                "pk", "at", "bank_id", "entry_id", "kind", "entry_from", "entry_to"
            )[: _MAX_CHANGES + 1]
        )
        if self._cursor:
            anchor = next((r for r in rows if r[0] == self._cursor), None)
            if anchor is None or anchor[1] != self._cursor_at:
                # The row we stopped at is gone or is another row (a restored database,
                # a deleted bank, a rolled-back test): the log cannot be trusted; rebuild.
                self.rebuild()
                return
        fresh = [r for r in rows if r[0] > self._cursor or r[0] in self._gaps]
        if not fresh:
            self._synced_at = timezone.now()
            self._expire_gaps()
            return
        if len(rows) > _MAX_CHANGES:
            self.rebuild()
            return
        self._memo = {}
        self._apply(fresh)
        self._track_gaps(fresh)
        newest = max(rows, key=lambda r: r[0])
        if newest[0] > self._cursor:
            self._cursor, self._cursor_at = newest[0], newest[1]
        self._synced_at = timezone.now()

    def _track_gaps(self, rows: list[tuple[Any, ...]]) -> None:
        """Ids between the old cursor and the newest row that were not seen may belong
        to transactions still open (PostgreSQL hands out ids before commit): watch them."""
        now = time.monotonic()
        seen = {r[0] for r in rows}
        for pk in seen:
            self._gaps.pop(pk, None)
        top = max(seen)
        missing = top - self._cursor - sum(1 for pk in seen if pk > self._cursor)
        if 0 < missing <= _MAX_GAPS:
            for pk in range(self._cursor + 1, top):
                if pk not in seen:
                    self._gaps.setdefault(pk, now)
        self._expire_gaps()

    def _expire_gaps(self) -> None:
        if not self._gaps:
            return
        limit = time.monotonic() - _GAP_SECONDS
        self._gaps = {pk: t for pk, t in self._gaps.items() if t > limit}

    def rebuild(self) -> None:
        """Build the whole index afresh from the database and swap it in."""
        last = BankChange.objects.order_by("-pk").values_list("pk", "at").first()
        banks = _bank_infos()
        rows = _fetch_rows(BankEntry.objects.filter(enabled=True, bank__enabled=True))
        state = _State.build(banks, rows)
        with self._rw.write():
            self._memo = {}
            self._state = state
            self._cursor, self._cursor_at = last if last is not None else (0, None)
            self._gaps = {}
            self._built_at = self._synced_at = timezone.now()
        log.info("matcher built: %s entries, %s banks", state.live_entries(), len(banks))

    def _apply(self, rows: list[tuple[Any, ...]]) -> None:
        state = self._state
        assert state is not None
        entry_pks = {r[3] for r in rows if r[3] is not None}
        ranges = [(r[2], r[5], r[6]) for r in rows if r[4] == "range" and r[3] is None]
        reload = {r[2] for r in rows if r[4] == "reload" and r[3] is None}
        touched = {r[2] for r in rows}
        banks = _bank_infos(Bank.objects.filter(pk__in=touched))
        with self._rw.read():
            for pk in touched - set(banks):
                reload.add(pk)  # a deleted bank: drop what the index holds of it
            for pk, info in banks.items():
                old = state.banks.get(pk)
                if old is None or old.enabled != info.enabled:
                    reload.add(pk)
            held = {pk: state.bank_entries(pk) for pk in reload}
            size = state.live_entries()
        estimate = len(entry_pks) + sum(len(h) for h in held.values())
        estimate += sum((hi - lo + 1) for _, lo, hi in ranges if lo is not None and hi is not None)
        if reload:
            estimate += BankEntry.objects.filter(bank_id__in=reload, enabled=True).count()
        if estimate > _REBUILD_MIN and estimate > REBUILD_SHARE * size:
            self.rebuild()
            return
        enabled_banks = {pk for pk, info in banks.items() if info.enabled}
        enabled_banks |= {
            pk for pk, info in state.banks.items() if info.enabled and pk not in touched
        }
        add: list[_Row] = []
        remove: set[int] = set()
        # Whole banks: the database's enabled entries against what the index holds.
        for bank in reload:
            want_rows = []
            if bank in enabled_banks:
                want_rows = _fetch_rows(BankEntry.objects.filter(bank_id=bank, enabled=True))
            wanted = {r[0] for r in want_rows}
            remove |= held[bank] - wanted
            add.extend(r for r in want_rows if r[0] not in held[bank])
        # Ranges of imported entries.
        for bank, lo, hi in ranges:
            if bank in reload or bank not in enabled_banks or lo is None or hi is None:
                continue
            batch = BankEntry.objects.filter(bank_id=bank, enabled=True, pk__range=(lo, hi))
            add.extend(_fetch_rows(batch))
        # Single entries: present exactly when enabled in an enabled bank.
        adding = {r[0] for r in add}
        single = [pk for pk in entry_pks if pk not in adding]
        found = {
            pk: ((pk, bank, signal, _bytes(digest), None if frames is None else _bytes(frames)), on)
            for pk, bank, signal, digest, frames, on in BankEntry.objects.filter(
                pk__in=single
            ).values_list("pk", "bank_id", "signal_type", "hash", "frames", "enabled")
        }
        for pk in single:
            row, on = found.get(pk, (None, False))
            if row is not None and on and row[1] in enabled_banks:
                if row[1] not in reload:
                    add.append(row)
            else:
                remove.add(pk)
        with self._rw.write():
            state.banks.update(banks)
            for pk in touched - set(banks):
                state.banks.pop(pk, None)
            remove -= {r[0] for r in add}
            state.remove(remove)
            if add:
                unique = {r[0]: r for r in add}
                already = state.present(list(unique))
                state.add([r for pk, r in unique.items() if pk not in already])
            state.compact_if_needed()

    # -- lookups ----------------------------------------------------------------------
    def _searchable(self, state: _State, bank_ids: Collection[int] | None) -> dict[int, _BankInfo]:
        if bank_ids is None:
            return {pk: b for pk, b in state.banks.items() if b.enabled}
        return {pk: b for pk in bank_ids if (b := state.banks.get(pk)) is not None and b.enabled}

    def match(
        self,
        hashes: Sequence[bytes],
        *,
        signal_type: str = "pdq",
        bank_ids: Collection[int] | None = None,
        radius: int | None = None,
    ) -> list[HashResult]:
        """Matches of each hash, nearest first, in the given banks (default: all).

        PDQ hits count within each bank's threshold, or within `radius` (at most 64) for
        every bank when given; MD5 and SHA-256 match exactly.
        """
        if signal_type != "pdq" and signal_type not in EXACT_SIGNALS:
            raise ValueError(f"cannot match signal type {signal_type!r}")
        width = EXACT_SIGNALS.get(signal_type, 32)
        if any(len(h) != width for h in hashes):
            raise ValueError(f"{signal_type} hashes are {width} bytes")
        if radius is not None and radius < 0:
            raise ValueError(f"radius must be 0..{MAX_RADIUS}, got {radius}")
        self._maybe_sync()
        with self._rw.read():
            state = self._state
            assert state is not None
            searchable = self._searchable(state, bank_ids)
            if signal_type == "pdq":
                raw = self._search_pdq(state, hashes, searchable, radius)
            else:
                raw = self._search_exact(state, signal_type, hashes, searchable)
        details = _entry_details({pk for hits in raw for _, pk, _, _ in hits})
        results = []
        matched = 0
        for digest, hits in zip(hashes, raw, strict=True):
            found = []
            for bank, pk, distance, kind in hits:
                external_id, classification = details.get(pk, ("", ""))
                found.append(
                    MatchHit(
                        bank, searchable[bank].name, pk, external_id, distance, classification, kind
                    )
                )
            allow = [h for h in found if searchable[h.bank_id].is_allow_list]
            if allow:
                rest = [h for h in found if not searchable[h.bank_id].is_allow_list]
                results.append(HashResult(digest.hex(), [], rest, allow))
            else:
                if found:
                    matched += 1
                results.append(HashResult(digest.hex(), found))
        self._count(len(hashes), matched)
        return results

    def _search_pdq(
        self,
        state: _State,
        hashes: Sequence[bytes],
        banks: dict[int, _BankInfo],
        radius: int | None,
    ) -> list[list[tuple[int, int, int, str]]]:
        """(bank, entry, distance, signal) per hash, nearest first, one hit per entry."""
        empty: list[list[tuple[int, int, int, str]]] = [[] for _ in hashes]
        if not hashes or not banks or not len(state.mih):
            return empty
        ids = np.array(sorted(banks), dtype=np.int64)
        if radius is not None:
            limit = min(radius, MAX_RADIUS)
            thresholds = np.full(ids.shape, limit, dtype=np.int64)
        else:
            thresholds = np.array([banks[int(i)].threshold for i in ids], dtype=np.int64)
            limit = int(thresholds.max())
        found = state.mih.search(b"".join(hashes), limit)
        if not len(found):
            return empty
        owner = state.slot_bank[found.slot]
        at = np.minimum(np.searchsorted(ids, owner), ids.size - 1)
        keep = (ids[at] == owner) & (found.distance <= thresholds[at])
        if not keep.any():
            return empty
        queries = found.query[keep].tolist()
        entries = state.slot_entry[found.slot[keep]].tolist()
        videos = state.slot_video[found.slot[keep]].tolist()
        distances = found.distance[keep].tolist()
        owners = owner[keep].tolist()
        seen: set[tuple[int, int]] = set()
        for q, pk, is_video, distance, bank in zip(
            queries, entries, videos, distances, owners, strict=True
        ):
            if (q, pk) in seen:  # a video's other frames: its nearest frame counts
                continue
            seen.add((q, pk))
            empty[q].append((bank, pk, distance, "vpdq" if is_video else "pdq"))
        return empty

    def _search_exact(
        self,
        state: _State,
        signal: str,
        hashes: Sequence[bytes],
        banks: dict[int, _BankInfo],
    ) -> list[list[tuple[int, int, int, str]]]:
        table = state.exact[signal]
        out = []
        for digest in hashes:
            hits = table.get(digest)
            out.append([(b, pk, 0, signal) for pk, b in hits if b in banks] if hits else [])
        return out

    def match_video(
        self,
        frames: Sequence[tuple[bytes, int]],
        *,
        bank_ids: Collection[int] | None = None,
    ) -> list[VideoHit]:
        """Banked videos found in an upload's (pdq, quality) frames, by vPDQ's rule.

        A banked video matches when at least 80 % of its distinct good frames lie within
        its bank's threshold of some good upload frame. When an allow-list bank's video
        matches, only the allow-list hits are returned (with `allow_list` set).
        """
        if any(len(h) != 32 for h, _ in frames):
            raise ValueError("pdq frame hashes are 32 bytes")
        good = list(dict.fromkeys(h for h, q in frames if q >= VIDEO_QUALITY_THRESHOLD))
        self._maybe_sync()
        hits: list[tuple[int, int, int, int]] = []  # bank, entry, matched, total
        with self._rw.read():
            state = self._state
            assert state is not None
            banks = self._searchable(state, bank_ids)
            if good and banks and len(state.mih):
                ids = np.array(sorted(banks), dtype=np.int64)
                thresholds = np.array([banks[int(i)].threshold for i in ids], dtype=np.int64)
                found = state.mih.search(b"".join(good), int(thresholds.max()))
                slots = found.slot[state.slot_video[found.slot]]
                distances = found.distance[state.slot_video[found.slot]]
                owner = state.slot_bank[slots]
                at = np.minimum(np.searchsorted(ids, owner), ids.size - 1)
                keep = (ids[at] == owner) & (distances <= thresholds[at])
                matched: dict[int, set[int]] = {}
                for slot in np.unique(slots[keep]).tolist():
                    matched.setdefault(int(state.slot_entry[slot]), set()).add(slot)
                for pk, hit_slots in matched.items():
                    total = state.video_totals.get(pk, 0)
                    if total and len(hit_slots) / total >= VIDEO_BANKED_SHARE:
                        hits.append((state.video_bank[pk], pk, len(hit_slots), total))
        details = _entry_details({pk for _, pk, _, _ in hits})
        videos = [
            VideoHit(
                bank,
                banks[bank].name,
                pk,
                details.get(pk, ("", ""))[0],
                matched_count / total,
                matched_count,
                total,
                details.get(pk, ("", ""))[1],
                banks[bank].is_allow_list,
            )
            for bank, pk, matched_count, total in hits
        ]
        allowed = [v for v in videos if v.allow_list]
        out = allowed or videos
        self._count(len(good), 1 if videos and not allowed else 0, requests=0)
        return sorted(out, key=lambda v: (-v.banked_share, v.bank_id, v.entry_id))

    # -- counting ---------------------------------------------------------------------
    def _count(self, lookups: int, matched: int, requests: int = 1) -> None:
        with self._count_lock:
            self._pending[0] += lookups
            self._pending[1] += requests
            self._pending[2] += matched
            self._lookups_total += lookups
            due = time.monotonic() - self._flushed >= self.flush_interval
        if due:
            self.flush_counts()

    def flush_counts(self) -> None:
        """Add the lookups counted since the last flush to this hour's LookupCounter."""
        with self._count_lock:
            lookups, requests, matched = self._pending
            self._pending = [0, 0, 0]
            self._flushed = time.monotonic()
        if not (lookups or requests):
            return
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        values = {
            "lookups": F("lookups") + lookups,
            "requests": F("requests") + requests,
            "matched": F("matched") + matched,
        }
        try:
            if not LookupCounter.objects.filter(hour=hour).update(**values):
                try:
                    with transaction.atomic():
                        LookupCounter.objects.create(
                            hour=hour, lookups=lookups, requests=requests, matched=matched
                        )
                except IntegrityError:  # another process created the hour's row first
                    LookupCounter.objects.filter(hour=hour).update(**values)
        except Exception:
            log.exception("could not record lookup counts; they are kept for the next flush")
            with self._count_lock:
                self._pending[0] += lookups
                self._pending[1] += requests
                self._pending[2] += matched

    # -- status -----------------------------------------------------------------------
    def status(self) -> IndexStatus:
        self._maybe_sync()
        with self._rw.read():
            state = self._state
            assert state is not None
            return IndexStatus(
                entries=state.counts(),
                banks=sum(1 for b in state.banks.values() if b.enabled),
                cursor=self._cursor,
                built_at=self._built_at,
                synced_at=self._synced_at,
                memory_bytes=state.memory_bytes(),
                lookups_total=self._lookups_total,
            )

    def bank_names(self) -> dict[int, str]:
        """Every bank's name by id, from memory (no query)."""
        self._maybe_sync()
        with self._rw.read():
            assert self._state is not None
            return {pk: b.name for pk, b in self._state.banks.items()}


def _entry_details(pks: set[int]) -> dict[int, tuple[str, str]]:
    """External id and classification of the entries that matched: one plain query per
    lookup call (the ORM's query building alone cost more than the query)."""
    if not pks:
        return {}
    meta = BankEntry._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(str(getattr(meta.get_field(name), "column", name)))
        for name in ("id", "external_id", "classification")
    )
    out: dict[int, tuple[str, str]] = {}
    listed = sorted(pks)
    with connection.cursor() as cursor:
        for start in range(0, len(listed), _FETCH):
            part = listed[start : start + _FETCH]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote('id')} IN ({marks})",
                part,
            )
            out.update({pk: (ext, cls) for pk, ext, cls in cursor.fetchall()})
    return out


_matcher: Matcher | None = None
_matcher_lock = threading.Lock()


def matcher() -> Matcher:
    """The process-wide matcher; its index is built on first use."""
    global _matcher
    if _matcher is None:
        with _matcher_lock:
            if _matcher is None:
                _matcher = Matcher()
    return _matcher


def built_matcher() -> Matcher | None:
    """The process-wide matcher if this process has built one, else None."""
    found = _matcher
    return found if found is not None and found._state is not None else None


def warm_up() -> None:
    """Build the index now (a server worker calls this before it takes requests)."""
    matcher().sync(force=True)


def reset_matcher() -> None:
    """Forget the process-wide matcher (tests, after the database was replaced)."""
    global _matcher
    with _matcher_lock:
        _matcher = None
