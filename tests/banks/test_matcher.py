"""The matcher against a brute-force oracle over the database rows, through random changes.

The oracle is a plain Python Hamming scan over every enabled entry of every enabled bank,
read back from the database, applying each bank's threshold (or the request's radius),
vPDQ frames of matchable quality, and allow-list suppression. After every step of a random
sequence of adds, imports, enables, disables and bank changes, every query's result must
equal the oracle's, in the incrementally updated matcher and in a freshly built one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Collection, Sequence

import pytest
from django.db import transaction
from tests.banks.helpers import flip_bits, hamming, random_pdq

from haven.accounts.permissions import Principal
from haven.banks import matcher as matcher_module
from haven.banks import services
from haven.banks.matcher import HashResult, Matcher, matcher
from haven.banks.models import Bank, BankChange, BankEntry, LookupCounter
from haven.index.bank import VIDEO_QUALITY_THRESHOLD
from haven.media.vpdq import VideoFrame, match_video

pytestmark = pytest.mark.django_db

Hit = tuple[int, int, int, str]  # bank, entry, distance, signal


def oracle(
    queries: Sequence[bytes],
    signal: str = "pdq",
    bank_ids: Collection[int] | None = None,
    radius: int | None = None,
) -> list[tuple[list[Hit], list[Hit], list[Hit]]]:
    """(matches, suppressed, allowed_by) for each query, by brute force over the rows."""
    banks = {b.pk: b for b in Bank.objects.filter(enabled=True)}
    if bank_ids is not None:
        banks = {pk: b for pk, b in banks.items() if pk in bank_ids}
    entries = list(BankEntry.objects.filter(enabled=True, bank_id__in=list(banks)))
    out = []
    for query in queries:
        hits: list[Hit] = []
        for e in entries:
            bank = banks[e.bank_id]
            limit = min(radius, 64) if radius is not None else bank.threshold
            if signal == "pdq" and e.signal_type == "pdq":
                d = hamming(query, bytes(e.hash))
            elif signal == "pdq" and e.signal_type == "vpdq":
                good = [f for q, f in services.unpack_frames(e.frames) if q >= 50]
                d = min((hamming(query, f) for f in good), default=999)
            elif signal == e.signal_type and bytes(e.hash) == query:
                d, limit = 0, 0
            else:
                continue
            if d <= limit:
                hits.append((e.bank_id, e.pk, d, e.signal_type))
        allow = [h for h in hits if banks[h[0]].is_allow_list]
        if allow:
            out.append(([], sorted(h for h in hits if h not in allow), sorted(allow)))
        else:
            out.append((sorted(hits), [], []))
    return out


def as_tuples(result: HashResult) -> tuple[list[Hit], list[Hit], list[Hit]]:
    def flat(hits: list[matcher_module.MatchHit]) -> list[Hit]:
        return sorted((h.bank_id, h.entry_id, h.distance, h.signal_type) for h in hits)

    return flat(result.matches), flat(result.suppressed), flat(result.allowed_by)


def check_against_oracle(
    m: Matcher,
    queries: Sequence[bytes],
    signal: str = "pdq",
    bank_ids: Collection[int] | None = None,
    radius: int | None = None,
) -> int:
    """Assert every result equals the oracle's; returns how many hits there were."""
    got = m.match(queries, signal_type=signal, bank_ids=bank_ids, radius=radius)
    want = oracle(queries, signal, bank_ids, radius)
    hits = 0
    for query, result, expected in zip(queries, got, want, strict=True):
        assert result.hash == query.hex()
        assert as_tuples(result) == expected, f"query {query.hex()}"
        distances = [h.distance for h in result.matches]
        assert distances == sorted(distances), "matches are nearest first"
        hits += len(expected[0]) + len(expected[1])
    return hits


class World:
    """Banks with different thresholds (one an allow-list), seeds and their neighbours."""

    def __init__(self, principal: Principal, seed: int) -> None:
        self.p = principal
        self.rng = random.Random(seed)
        self.banks = [
            services.create_bank(principal, name="strict", threshold=8),
            services.create_bank(principal, name="default", threshold=31),
            services.create_bank(principal, name="wide", threshold=45),
            services.create_bank(principal, name="allowed", threshold=12, is_allow_list=True),
        ]
        self.seeds = [random_pdq(self.rng) for _ in range(6)]
        self.md5 = [self.rng.randbytes(16) for _ in range(4)]
        self.entries: list[BankEntry] = []
        self.counter = 0

    def near_seed(self) -> bytes:
        return flip_bits(self.rng.choice(self.seeds), self.rng.randint(0, 50), self.rng)

    def add(self) -> None:
        bank = self.rng.choice(self.banks)
        self.counter += 1
        if self.rng.random() < 0.2:
            digest, signal = self.rng.choice(self.md5), "md5"
        else:
            digest, signal = self.near_seed(), "pdq"
        self.entries.append(
            services.add_entry(
                self.p,
                bank,
                signal_type=signal,
                hash_hex=digest.hex(),
                external_id=f"e{self.counter}",
            )
        )

    def import_list(self) -> None:
        bank = self.rng.choice(self.banks)
        self.counter += 1
        text = "".join(self.near_seed().hex() + "\n" for _ in range(self.rng.randint(1, 30)))
        services.import_hash_list(self.p, bank, text, f"list{self.counter}.txt")

    def import_video(self) -> None:
        bank = self.rng.choice(self.banks)
        self.counter += 1
        lines = [
            f"{i},{self.rng.choice([10, 60, 90, 100])},{self.near_seed().hex()}"
            for i in range(self.rng.randint(1, 6))
        ]
        services.import_hash_list(self.p, bank, "\n".join(lines), f"v{self.counter}.vpdq")

    def toggle_entry(self) -> None:
        entry = self.rng.choice(list(BankEntry.objects.all()))
        services.set_entry_enabled(self.p, entry, not entry.enabled)

    def change_bank(self) -> None:
        bank = Bank.objects.get(pk=self.rng.choice(self.banks).pk)
        what = self.rng.random()
        if what < 0.4:
            services.update_bank(self.p, bank, enabled=not bank.enabled)
        elif what < 0.8:
            services.update_bank(self.p, bank, threshold=self.rng.randint(0, 64))
        else:
            services.update_bank(self.p, bank, is_allow_list=not bank.is_allow_list)

    def step(self) -> None:
        actions = [self.add] * 4 + [self.import_list, self.import_video] + [self.toggle_entry] * 3
        actions += [self.change_bank]
        action = self.rng.choice(actions)
        if action in (self.toggle_entry,) and not BankEntry.objects.exists():
            action = self.add
        action()

    def queries(self) -> list[bytes]:
        out = list(self.seeds)
        out += [self.near_seed() for _ in range(20)]
        out += [random_pdq(self.rng) for _ in range(5)]
        out += [bytes(e.hash) for e in BankEntry.objects.filter(signal_type="pdq")[:10]]
        return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_match_the_oracle(analyst: Principal, seed: int) -> None:
    world = World(analyst, seed)
    m = Matcher()
    m.sync(force=True)
    total_hits = 0
    for step in range(60):
        world.step()
        m.sync(force=True)
        queries = world.queries()
        total_hits += check_against_oracle(m, queries)
        check_against_oracle(m, world.md5, "md5")
        if step % 10 == 9:
            ids = {b.pk for b in world.rng.sample(world.banks, 2)}
            check_against_oracle(m, queries, bank_ids=ids)
            check_against_oracle(m, queries, radius=world.rng.randint(0, 70))
            fresh = Matcher()  # built from scratch: the same answers
            check_against_oracle(fresh, queries)
    assert total_hits > 100, "the scenario must produce matches to compare"


def test_thresholds_apply_per_bank(analyst: Principal) -> None:
    rng = random.Random(7)
    base = random_pdq(rng)
    strict = services.create_bank(analyst, name="strict", threshold=5)
    loose = services.create_bank(analyst, name="loose", threshold=31)
    at = {d: flip_bits(base, d, rng) for d in (0, 5, 6, 31, 32)}
    for digest in at.values():
        for bank in (strict, loose):
            services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    m = Matcher()
    (result,) = m.match([base])
    found = {(h.bank, h.distance) for h in result.matches}
    assert found == {
        ("strict", 0), ("strict", 5),
        ("loose", 0), ("loose", 5), ("loose", 6), ("loose", 31),
    }  # fmt: skip
    (wide,) = m.match([base], radius=200)  # capped at 64
    assert {h.distance for h in wide.matches} == {0, 5, 6, 31, 32}
    (narrow,) = m.match([base], radius=5)
    assert {(h.bank, h.distance) for h in narrow.matches} == {
        ("strict", 0), ("strict", 5), ("loose", 0), ("loose", 5),
    }  # fmt: skip
    check_against_oracle(m, list(at.values()))


def test_allow_list_suppresses_other_banks(analyst: Principal) -> None:
    rng = random.Random(9)
    benign = random_pdq(rng)
    listed = services.create_bank(analyst, name="listed")
    allow = services.create_bank(analyst, name="known benign", threshold=4, is_allow_list=True)
    entry = services.add_entry(analyst, listed, signal_type="pdq", hash_hex=benign.hex())
    services.add_entry(analyst, allow, signal_type="pdq", hash_hex=benign.hex())
    far = flip_bits(benign, 10, rng)  # within "listed" (31), outside the allow-list (4)
    m = Matcher()
    near_result, far_result = m.match([flip_bits(benign, 2, rng), far])
    assert near_result.matches == []
    assert [h.entry_id for h in near_result.suppressed] == [entry.pk]
    assert [h.bank for h in near_result.allowed_by] == ["known benign"]
    assert [h.entry_id for h in far_result.matches] == [entry.pk]
    assert far_result.suppressed == []


def test_exact_signals(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="files")
    md5 = bytes.fromhex("d41d8cd98f00b204e9800998ecf8427e")
    sha = bytes(32)
    a = services.add_entry(analyst, bank, signal_type="md5", hash_hex=md5.hex())
    services.add_entry(analyst, bank, signal_type="sha256", hash_hex=sha.hex())
    m = Matcher()
    (hit, miss) = m.match([md5, bytes(16)], signal_type="md5")
    assert [(h.entry_id, h.distance, h.signal_type) for h in hit.matches] == [(a.pk, 0, "md5")]
    assert miss.matches == []
    # A SHA-256 is not a PDQ: 32 zero bytes as PDQ match nothing in this bank.
    assert m.match([sha])[0].matches == []
    assert len(m.match([sha], signal_type="sha256")[0].matches) == 1
    with pytest.raises(ValueError, match="16 bytes"):
        m.match([sha], signal_type="md5")
    with pytest.raises(ValueError, match="cannot match"):
        m.match([sha], signal_type="vpdq")


def test_hits_carry_entry_details(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="details")
    digest = random_pdq(random.Random(3))
    services.add_entry(
        analyst, bank, signal_type="pdq", hash_hex=digest.hex(), external_id="x-9",
        classification="A1",
    )  # fmt: skip
    (result,) = Matcher().match([digest])
    (hit,) = result.matches
    assert (hit.bank, hit.bank_id, hit.external_id, hit.classification) == (
        "details", bank.pk, "x-9", "A1",
    )  # fmt: skip


# -- whole videos ---------------------------------------------------------------------------


def _video_text(frames: Sequence[tuple[bytes, int]]) -> str:
    return "".join(f"{i},{q},{f.hex()}\n" for i, (f, q) in enumerate(frames))


def test_whole_video_rule_against_vpdq_reference(analyst: Principal) -> None:
    rng = random.Random(11)
    bank = services.create_bank(analyst, name="videos", threshold=20)
    good = [random_pdq(rng) for _ in range(10)]
    banked = [(f, 90) for f in good] + [(random_pdq(rng), 30) for _ in range(3)]
    banked += [(good[0], 100)]  # a repeated frame counts once
    services.import_hash_list(analyst, bank, _video_text(banked), "clip.vpdq")
    entry = bank.entries.get()
    m = Matcher()
    for found in range(0, 11):
        upload = [(flip_bits(f, rng.randint(0, 20), rng), 80) for f in good[:found]]
        upload += [(random_pdq(rng), 90) for _ in range(40)]  # a longer compilation
        upload += [(f, 10) for f in good[found:]]  # poor quality: ignored on both sides
        rng.shuffle(upload)
        hits = m.match_video(upload)
        reference = match_video(
            [VideoFrame(i, q, f) for i, (f, q) in enumerate(upload)],
            [VideoFrame(i, q, f) for i, (f, q) in enumerate(banked)],
            distance=20,
            quality_threshold=VIDEO_QUALITY_THRESHOLD,
        )
        assert bool(hits) == reference.matched == (found >= 8), found
        if hits:
            (hit,) = hits
            assert (hit.entry_id, hit.frames_matched, hit.frames_total) == (entry.pk, found, 10)
            assert hit.banked_share == pytest.approx(reference.banked_share)
    # A frame as an image hash finds the video it belongs to.
    (as_image,) = m.match([good[3]])
    assert [(h.entry_id, h.signal_type) for h in as_image.matches] == [(entry.pk, "vpdq")]


def test_video_respects_bank_filter_and_disable(analyst: Principal) -> None:
    rng = random.Random(12)
    bank = services.create_bank(analyst, name="videos")
    other = services.create_bank(analyst, name="other")
    frames = [(random_pdq(rng), 100) for _ in range(5)]
    services.import_hash_list(analyst, bank, _video_text(frames), "a.vpdq")
    m = Matcher()
    assert len(m.match_video(frames)) == 1
    assert m.match_video(frames, bank_ids=[other.pk]) == []
    services.set_entry_enabled(analyst, bank.entries.get(), False)
    m.sync(force=True)
    assert m.match_video(frames) == []
    services.set_entry_enabled(analyst, bank.entries.get(), True)
    m.sync(force=True)
    assert len(m.match_video(frames)) == 1
    assert len(m.status().entries) and m.status().entries["vpdq"] == 1


# -- staying current ------------------------------------------------------------------------


def test_two_processes_see_changes_within_a_second(analyst: Principal) -> None:
    """Two matchers stand for two server processes; a change made through one's services
    must reach the other on its next lookups, within a second."""
    bank = services.create_bank(analyst, name="shared")
    first, second = Matcher(), Matcher()
    digest = random_pdq(random.Random(13))
    assert second.match([digest])[0].matches == []
    started = time.monotonic()
    entry = services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    first.sync(force=True)  # what the service's on_commit hook does in its own process
    assert first.match([digest])[0].matches
    while not second.match([digest])[0].matches:
        assert time.monotonic() - started < 1.0, "the other process did not see the entry"
        time.sleep(0.02)
    seen_after = time.monotonic() - started
    started = time.monotonic()
    services.set_entry_enabled(analyst, entry, False)
    while second.match([digest])[0].matches:
        assert time.monotonic() - started < 1.0, "the other process still matches"
        time.sleep(0.02)
    assert seen_after < 1.0


@pytest.mark.django_db(transaction=True)
def test_commit_syncs_this_process_at_once(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="committed")
    index = matcher()
    index.sync(force=True)
    digest = random_pdq(random.Random(14))
    with transaction.atomic():
        services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    # No waiting: the on_commit hook synced this process's matcher.
    index.sync_interval = 3600.0
    assert index.match([digest])[0].matches


def test_late_committed_change_is_not_missed(analyst: Principal) -> None:
    """A change whose id is below the cursor when it becomes visible (a slow PostgreSQL
    transaction) is still applied: skipped ids are watched for a while."""
    bank = services.create_bank(analyst, name="gaps")
    m = Matcher()
    m.sync(force=True)
    rng = random.Random(15)
    early, late = random_pdq(rng), random_pdq(rng)
    e1 = services.add_entry(analyst, bank, signal_type="pdq", hash_hex=early.hex())
    slow = BankChange.objects.get(entry=e1)
    slow_id = slow.pk
    slow.delete()  # not visible yet
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=late.hex())
    m.sync(force=True)
    assert m.match([early])[0].matches == [] and m.match([late])[0].matches
    BankChange.objects.create(pk=slow_id, bank=bank, entry=e1, kind="entry")  # now visible
    m.sync(force=True)
    assert m.match([early])[0].matches


def test_bank_deleted_or_log_replaced_rebuilds(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="gone")
    digest = random_pdq(random.Random(16))
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    m = Matcher()
    assert m.match([digest])[0].matches
    BankEntry.objects.all().delete()
    Bank.objects.all().delete()  # cascades to the change log the cursor points at
    m.sync(force=True)
    assert m.match([digest])[0].matches == []
    assert m.status().entries["pdq"] == 0


def test_large_changes_rebuild(analyst: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = services.create_bank(analyst, name="big")
    m = Matcher()
    m.sync(force=True)
    rebuilt: list[int] = []
    original = Matcher.rebuild

    def counting(self: Matcher) -> None:
        rebuilt.append(1)
        original(self)

    monkeypatch.setattr(Matcher, "rebuild", counting)
    rng = random.Random(17)
    text = "".join(random_pdq(rng).hex() + "\n" for _ in range(1500))
    services.import_hash_list(analyst, bank, text, "many.txt")
    m.sync(force=True)
    assert rebuilt == [1] and m.status().entries["pdq"] == 1500
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=random_pdq(rng).hex())
    m.sync(force=True)
    assert rebuilt == [1] and m.status().entries["pdq"] == 1501  # small: applied in place


def test_tombstones_are_compacted(analyst: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_module, "COMPACT_MIN", 5)
    monkeypatch.setattr(matcher_module, "_REBUILD_MIN", 10**9)
    bank = services.create_bank(analyst, name="churn")
    rng = random.Random(18)
    m = Matcher()
    m.sync(force=True)
    hashes = [random_pdq(rng) for _ in range(30)]
    services.import_hash_list(analyst, bank, "".join(h.hex() + "\n" for h in hashes), "c.txt")
    m.sync(force=True)
    BankEntry.objects.filter(external_id__in=[f"c.txt:{i}" for i in range(1, 21)]).update(
        enabled=False
    )
    BankChange.objects.create(bank=bank, kind="reload")
    m.sync(force=True)
    state = m._state
    assert state is not None and state.slots == len(state.mih) == 10
    check_against_oracle(m, hashes)


def test_enable_disable_cycles_reuse_slots(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="cycles")
    digest = random_pdq(random.Random(19))
    entry = services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    m = Matcher()
    for _ in range(5):
        entry = services.set_entry_enabled(analyst, entry, False)
        m.sync(force=True)
        assert m.match([digest])[0].matches == []
        entry = services.set_entry_enabled(analyst, entry, True)
        m.sync(force=True)
        assert m.match([digest])[0].matches
    assert m._state is not None and m._state.slots == 1


def test_concurrent_lookups_during_changes(analyst: Principal) -> None:
    """Lookups in threads while the index changes under the write lock: no error, and a
    hash that is never touched always matches."""
    bank = services.create_bank(analyst, name="steady")
    rng = random.Random(20)
    steady = random_pdq(rng)
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=steady.hex())
    m = Matcher(sync_interval=3600.0)
    m.sync(force=True)
    state = m._state
    assert state is not None
    problems: list[str] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            with m._rw.read():
                found = m._search_pdq(state, [steady], dict(state.banks), None)
            if not found[0]:
                problems.append("the steady entry went missing")

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(3000):  # past the delta limit, so merges happen too
            rows = [(10**6 + i, bank.pk, "pdq", random_pdq(rng), None)]
            with m._rw.write():
                state.add(rows)
                if i % 3 == 0:
                    state.remove([10**6 + i])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []


# -- counting and status --------------------------------------------------------------------


def test_lookups_are_counted_per_hour(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="counted")
    digest = random_pdq(random.Random(21))
    services.add_entry(analyst, bank, signal_type="pdq", hash_hex=digest.hex())
    m = Matcher(flush_interval=3600.0)
    m.match([digest, random_pdq(random.Random(22))])
    assert not LookupCounter.objects.exists()  # kept in memory until the flush is due
    m.flush_counts()
    m.match([digest])
    m.flush_counts()
    (row,) = LookupCounter.objects.all()
    assert (row.lookups, row.requests, row.matched) == (3, 2, 2)
    assert row.hour.minute == 0 and row.hour.second == 0
    assert m.status().lookups_total == 3


def test_status(analyst: Principal) -> None:
    bank = services.create_bank(analyst, name="status")
    services.import_hash_list(analyst, bank, "a" * 64 + "\n" + "b" * 64 + "\n", "s.txt")
    services.add_entry(analyst, bank, signal_type="md5", hash_hex="0" * 32)
    status = Matcher().status()
    assert status.entries["pdq"] == 2 and status.entries["md5"] == 1
    assert status.banks == 1 and status.cursor == BankChange.objects.latest("pk").pk
    assert status.built_at is not None and status.memory_bytes > 0
