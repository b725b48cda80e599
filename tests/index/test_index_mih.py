"""MultiIndexHash against an independent brute-force oracle; its updates, files and plans.

The oracle is plain numpy (XOR, then counting bits); it never calls the C scan. Databases
are built in code: random hashes, clusters of near-duplicates made by flipping a few bits
of a few seeds (often inside one narrow window, so the differences pile up in one or two
table keys), exact duplicates, and the all-zero / all-one hashes (first and last bucket).
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from numpy.typing import NDArray

from haven.index import (
    IndexFileError,
    Matches,
    MultiIndexHash,
    as_hash_array,
    plan_tables,
    table_thresholds,
)

HASH_BYTES = 32
HASH_BITS = 256
STRATEGIES = ("auto", "index", "scan")
# Where planted differences go: None anywhere; an int, inside a window of that many bits;
# "spread-m", evenly over the m tables of an m-table index (one more in some tables): the
# pigeonhole bound's worst case, which catches an index that probes one bit too little.
WINDOWS = st.sampled_from([None, None, 8, 16, 24, 40, "spread-11", "spread-12", "spread-16"])
quick = settings(deadline=None, database=None)

Triples = list[tuple[int, int, int]]


# -- the oracle ---------------------------------------------------------------------------
def hamming(queries: NDArray[np.uint8], db: NDArray[np.uint8]) -> NDArray[np.int64]:
    """The (len(queries), len(db)) matrix of Hamming distances: XOR, then count bits."""
    q = np.asarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
    d = np.asarray(db, dtype=np.uint8).reshape(-1, HASH_BYTES)
    out = np.empty((q.shape[0], d.shape[0]), dtype=np.int64)
    for lo in range(0, q.shape[0], 16):
        xor = q[lo : lo + 16, None, :] ^ d[None, :, :]
        out[lo : lo + 16] = np.bitwise_count(xor).sum(axis=-1, dtype=np.int64)
    return out


def oracle(
    db: NDArray[np.uint8],
    queries: NDArray[np.uint8],
    radius: int,
    live: NDArray[np.bool_] | None = None,
) -> Triples:
    """Every (query, slot, distance) within `radius`, live slots only, sorted as Matches is."""
    distances = hamming(queries, db)
    within = distances <= radius
    if live is not None:
        within &= np.asarray(live, dtype=bool)[None, :]
    q, s = np.nonzero(within)
    d = distances[q, s]
    order = np.lexsort((s, d, q))
    return list(zip(q[order].tolist(), s[order].tolist(), d[order].tolist(), strict=True))


def triples(matches: Matches) -> Triples:
    assert isinstance(matches, Matches)
    assert matches.query.shape == matches.slot.shape == matches.distance.shape
    return list(
        zip(matches.query.tolist(), matches.slot.tolist(), matches.distance.tolist(), strict=True)
    )


def even_plan(tables: int) -> tuple[tuple[int, int], ...]:
    """256 bits cut into `tables` consecutive keys, the longer ones first."""
    base, longer = divmod(HASH_BITS, tables)
    plan, start = [], 0
    for t in range(tables):
        bits = base + (t < longer)
        plan.append((start, bits))
        start += bits
    return tuple(plan)


def flipped(row: NDArray[np.uint8], k: int, rng: np.random.Generator, window: int | str | None):
    """`row` with exactly k distinct bits flipped, placed as `window` says (see WINDOWS)."""
    if isinstance(window, str):
        plan = even_plan(int(window.removeprefix("spread-")))
        per = [k // len(plan) + (i < k % len(plan)) for i in range(len(plan))]
        if rng.integers(0, 2):
            per = rng.permutation(per).tolist()
        positions = np.concatenate(
            [
                start + rng.choice(bits, size=c, replace=False)
                for (start, bits), c in zip(plan, per, strict=True)
            ]
        )
    elif window is None or k > window:
        positions = rng.choice(HASH_BITS, size=k, replace=False)
    else:
        start = int(rng.integers(0, HASH_BITS - window + 1))
        positions = start + rng.choice(window, size=k, replace=False)
    out = np.array(row, dtype=np.uint8, copy=True)
    for p in positions.tolist():
        out[p // 8] ^= 0x80 >> (p % 8)
    return out


def random_hashes(rng: np.random.Generator, n: int) -> NDArray[np.uint8]:
    return rng.integers(0, 256, size=(n, HASH_BYTES), dtype=np.uint8)


def clustered_db(rng: np.random.Generator, clusters: int, size: int, flips: int, noise: int):
    """Clusters of near-duplicates around random seeds, some noise, duplicates, 0s and 1s."""
    parts = [random_hashes(rng, noise), np.zeros((1, 32), np.uint8), np.full((1, 32), 255)]
    for c in range(clusters):
        seed = random_hashes(rng, 1)[0]
        window = [None, 16, 24, "spread-16"][c % 4]
        members = [flipped(seed, int(rng.integers(0, flips + 1)), rng, window) for _ in range(size)]
        parts.append(np.stack(members))
    db = np.concatenate(parts).astype(np.uint8)
    db = np.concatenate([db, db[rng.integers(0, len(db), size=len(db) // 20 + 1)]])
    return np.ascontiguousarray(db[rng.permutation(len(db))])


# -- hypothesis strategies ----------------------------------------------------------------
@st.composite
def databases(draw: st.DrawFn, max_random: int = 40) -> NDArray[np.uint8]:
    """Random hashes, up to 4 clusters of near-duplicates, maybe 0s and 1s, duplicates."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    parts = [random_hashes(rng, draw(st.integers(0, max_random)))]
    for _ in range(draw(st.integers(0, 4))):
        seed = random_hashes(rng, 1)[0]
        size, max_flips, window = draw(st.integers(1, 20)), draw(st.integers(0, 16)), draw(WINDOWS)
        flips = rng.integers(0, max_flips + 1, size=size).tolist()
        parts.append(np.stack([flipped(seed, k, rng, window) for k in flips]))
    if draw(st.booleans()):
        parts.append(np.zeros((1, HASH_BYTES), np.uint8))
    if draw(st.booleans()):
        parts.append(np.full((1, HASH_BYTES), 255, np.uint8))
    db = np.concatenate(parts).astype(np.uint8)
    duplicates = draw(st.integers(0, 6))
    if len(db) and duplicates:
        db = np.concatenate([db, db[rng.integers(0, len(db), size=duplicates)]])
    return np.ascontiguousarray(db[rng.permutation(len(db))])


@st.composite
def queries_and_radius(
    draw: st.DrawFn, db: NDArray[np.uint8], max_radius: int = 63, max_planted: int = 12
) -> tuple[NDArray[np.uint8], int]:
    """Queries planted 0..40 bits from db entries, plus random ones, and a radius that is
    often exactly a planted distance or one off it."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    queries, planted = [], []
    if len(db):
        for entry, k, window in draw(
            st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 40), WINDOWS), max_size=12)
        )[:max_planted]:
            queries.append(flipped(db[entry % len(db)], k, rng, window))
            planted.append(k)
    queries += list(random_hashes(rng, draw(st.integers(0 if queries else 1, 3))))
    boundaries = sorted({min(max(k + dk, 0), max_radius) for k in planted for dk in (-1, 0, 1)})
    radii = st.integers(0, max_radius)
    if boundaries:
        radii = st.one_of(radii, st.sampled_from(boundaries))
    return np.stack(queries).astype(np.uint8), draw(radii)


# -- the oracle itself --------------------------------------------------------------------
def test_oracle_agrees_with_python_integers() -> None:
    rng = np.random.default_rng(1)
    a, b = random_hashes(rng, 7), random_hashes(rng, 9)
    b[0] = a[0]
    b[1] = ~a[1]
    ints_a = [int.from_bytes(bytes(r), "big") for r in a]
    ints_b = [int.from_bytes(bytes(r), "big") for r in b]
    expected = [[(x ^ y).bit_count() for y in ints_b] for x in ints_a]
    assert hamming(a, b).tolist() == expected
    by_unpack = np.unpackbits(a[:, None, :] ^ b[None, :, :], axis=-1).sum(axis=-1)
    assert hamming(a, b).tolist() == by_unpack.tolist()
    assert expected[0][0] == 0 and expected[1][1] == 256
    got = oracle(b, a, 140)
    assert got[0] == (0, 0, 0)
    assert all(d <= 140 for _, _, d in got)
    assert got == sorted(got, key=lambda t: (t[0], t[2], t[1]))


# -- exactness: index == oracle -----------------------------------------------------------
@settings(quick, max_examples=60)
@given(data=st.data())
def test_sixteen_tables_equal_oracle_for_every_strategy(data: st.DataObject) -> None:
    db = data.draw(databases(), label="db")
    queries, radius = data.draw(queries_and_radius(db), label="queries, radius")
    expected = oracle(db, queries, radius)
    index = MultiIndexHash(db, tables=16)
    assert len(index) == index.slots == len(db)
    for strategy in STRATEGIES:
        assert triples(index.search(queries, radius, strategy=strategy)) == expected, strategy
    planned = MultiIndexHash(db)
    assert planned.plan == plan_tables(len(db))
    assert triples(planned.search(queries, radius, strategy="index")) == expected


@settings(quick, max_examples=4)
@given(data=st.data())
def test_twelve_tables_on_random_databases_equal_oracle(data: st.DataObject) -> None:
    db = data.draw(databases(max_random=80), label="db")
    index = MultiIndexHash(db, tables=12)
    for _ in range(3):
        queries, radius = data.draw(queries_and_radius(db), label="queries, radius")
        expected = oracle(db, queries, radius)
        for strategy in STRATEGIES:
            assert triples(index.search(queries, radius, strategy=strategy)) == expected


def adversarial(
    plan: tuple[tuple[int, int], ...], n: int, radii: range, rng: np.random.Generator
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], list[int]]:
    """The pigeonhole bound's tight cases, for an index of n hashes with this plan.

    For each radius r, one query and, for each table j it probes, an entry exactly r bits
    away that differs by t_i + 1 bits in every other probed table and by exactly t_j in
    table j (by nothing elsewhere): it can only be found through table j's outermost
    probes. Returns (queries, one per radius; entries; each entry's radius)."""
    queries, entries, radius_of = [], [], []
    for radius in radii:
        thresholds = table_thresholds(plan, n, radius, force=True)
        assert thresholds is not None
        t = thresholds.tolist()
        assert sum(x + 1 for x in t) >= radius + 1
        query = random_hashes(rng, 1)[0]
        queries.append(query)
        for j in (i for i, x in enumerate(t) if x >= 0):
            counts = [0 if x < 0 else x if i == j else x + 1 for i, x in enumerate(t)]
            # With thresholds summing past radius + 1, take the slack off the other tables.
            excess = sum(counts) - radius
            for i in range(len(counts)):
                cut = min(excess, counts[i]) if i != j else 0
                counts[i] -= cut
                excess -= cut
            entry = query.copy()
            for (start, bits), count in zip(plan, counts, strict=True):
                for p in (start + rng.choice(bits, size=count, replace=False)).tolist():
                    entry[p // 8] ^= 0x80 >> (p % 8)
            entries.append(entry)
            radius_of.append(radius)
    return np.stack(queries), np.stack(entries), radius_of


def check_adversarial(index, db, live, queries, first_slot, radius_of) -> None:
    """Every tight-case entry is found at its radius, and the results equal the oracle."""
    for radius in sorted(set(radius_of)):
        query = queries[radius - min(radius_of)][None, :]
        got = triples(index.search(query, radius, strategy="index"))
        assert got == oracle(db, query, radius, live), radius
        planted = {first_slot + k for k, r in enumerate(radius_of) if r == radius}
        assert {(s, d) for _, s, d in got if s in planted} == {(s, radius) for s in planted}


def test_tight_pigeonhole_cases_are_found_with_16_tables() -> None:
    rng = np.random.default_rng(21)
    n = 1800
    queries, entries, radius_of = adversarial(even_plan(16), n, range(0, 96), rng)
    db = np.concatenate([entries, random_hashes(rng, n - len(entries))])
    index = MultiIndexHash(db, tables=16)
    check_adversarial(index, db, None, queries, 0, radius_of)


@pytest.fixture(scope="module", params=[11, 12], ids=["11-tables", "12-tables"])
def wide(request: pytest.FixtureRequest):
    """A clustered index with long keys, the pigeonhole tight cases, a delta segment and
    removed entries (built once: 11 tables of 23-24 bits take 450 MB of bucket offsets)."""
    tables = request.param
    rng = np.random.default_rng(tables)
    n = 1700
    clustered = clustered_db(rng, clusters=12, size=40, flips=14, noise=150)
    queries, tight, radius_of = adversarial(even_plan(tables), n, range(6 * tables), rng)
    padding = random_hashes(rng, n - len(clustered) - len(tight))
    main = np.concatenate([clustered, tight, padding])
    index = MultiIndexHash(main, tables=tables, delta_limit=10**6)
    assert index.plan == even_plan(tables)
    near = np.stack([flipped(main[i], int(rng.integers(0, 9)), rng, 24) for i in range(0, 60, 2)])
    delta = np.concatenate([near, random_hashes(rng, 10)])
    assert index.add(delta).tolist() == list(range(n, n + len(delta)))
    everything = np.concatenate([main, delta])
    # Removals among the clusters and the delta, not among the tight cases.
    candidates = np.r_[0 : len(clustered), n : len(everything)]
    removed = rng.choice(candidates, size=50, replace=False)
    assert index.remove(removed.tolist()) == 50
    live = np.ones(len(everything), dtype=bool)
    live[removed] = False
    return index, everything, live, (queries, len(clustered), radius_of)


def test_long_keys_find_the_tight_pigeonhole_cases(wide) -> None:
    index, everything, live, (queries, first, radius_of) = wide
    check_adversarial(index, everything, live, queries, first, radius_of)


@settings(quick, max_examples=25)
@given(data=st.data())
def test_long_keys_with_delta_and_tombstones_equal_oracle(wide, data: st.DataObject) -> None:
    index, everything, live, _ = wide
    assert len(index) == int(live.sum())
    queries, radius = data.draw(queries_and_radius(everything), label="queries, radius")
    expected = oracle(everything, queries, radius, live)
    for strategy in STRATEGIES:
        assert triples(index.search(queries, radius, strategy=strategy)) == expected, strategy


def test_long_key_plans_and_probe_limit(wide) -> None:
    index, everything, live, _ = wide
    tables = len(index.plan)
    assert sum(bits for _, bits in index.plan) == HASH_BITS
    assert {bits for _, bits in index.plan} == {HASH_BITS // tables, HASH_BITS // tables + 1}
    rng = np.random.default_rng(5)
    queries = np.stack([flipped(everything[i], 30 + i % 30, rng, 40) for i in range(0, 400, 40)])
    # Each table can be probed up to 5 bits, so 6 * tables - 1 is the largest probe-able radius.
    limit = 6 * tables - 1
    expected = oracle(everything, queries, limit, live)
    assert expected
    assert triples(index.search(queries, limit, strategy="index")) == expected
    with pytest.raises(ValueError, match="too large to probe"):
        index.search(queries, limit + 1, strategy="index")
    assert triples(index.search(queries, limit + 1)) == oracle(everything, queries, limit + 1, live)


def test_auto_probes_the_tables_at_larger_sizes_and_stays_exact() -> None:
    rng = np.random.default_rng(7)
    db = np.concatenate([random_hashes(rng, 20_000), clustered_db(rng, 8, 50, 12, 0)])
    index = MultiIndexHash(db)
    queries = np.stack([flipped(db[i], i % 24, rng, [None, 16][i % 2]) for i in range(0, 4000, 50)])
    queries = np.concatenate([queries, random_hashes(rng, 5)])
    for radius in (0, 3, 8, 12, 20):
        # The cost model chooses to probe (not to scan) at these radii ...
        assert table_thresholds(index.plan, len(db), radius) is not None
        expected = oracle(db, queries, radius)
        assert len({q for q, _, _ in expected}) >= len(queries) * radius // 40
        # ... and probing gives exactly what brute force does.
        assert triples(index.search(queries, radius)) == expected
    assert triples(index.search(queries, 64)) == oracle(db, queries, 64)


def test_large_radii_up_to_256_report_true_distances() -> None:
    """A radius of 256 is accepted, so a complementary hash (256 bits apart) must be reported
    at distance 256, not 0."""
    rng = np.random.default_rng(3)
    db = np.concatenate([random_hashes(rng, 20), np.zeros((1, 32), np.uint8)])
    queries = np.concatenate([np.full((1, 32), 255, np.uint8), db[:2]])
    index = MultiIndexHash(db, tables=16)
    for radius in (200, 255, 256):
        expected = oracle(db, queries, radius)
        for strategy in ("auto", "scan"):
            got = triples(index.search(queries, radius, strategy=strategy))
            assert got == expected, (radius, strategy)
    complement = index.search_one(bytes(np.full(32, 255, np.uint8)), 256)
    assert complement[-1] == (20, 256)


def test_search_edge_cases_and_result_views() -> None:
    rng = np.random.default_rng(4)
    db = random_hashes(rng, 30)
    db[5] = db[3]  # a duplicate: both reported, by slot, at distance 0
    index = MultiIndexHash(db, tables=16)
    empty = index.search(np.empty((0, 32), np.uint8), 10)
    assert len(empty) == 0 and empty.grouped(0) == []
    queries = np.stack([db[3], flipped(db[7], 4, rng, None), random_hashes(rng, 1)[0]])
    matches = index.search(queries, 8)
    assert matches.query.dtype == matches.slot.dtype == matches.distance.dtype == np.int64
    assert matches.for_query(0) == [(3, 0), (5, 0)]
    assert matches.for_query(1) == [(7, 4)]
    assert matches.grouped(4) == [[(3, 0), (5, 0)], [(7, 4)], [], []]
    assert index.search_one(bytes(queries[1]), 8) == [(7, 4)]
    assert index.search_one(bytes(queries[1]), 3) == []
    # Bytes and lists of bytes are accepted as queries as well as arrays.
    as_list = [bytes(q) for q in queries]
    assert triples(index.search(as_list, 8)) == triples(matches)
    assert triples(index.search(b"".join(as_list), 8)) == triples(matches)
    assert triples(index.search(queries.reshape(-1), 8)) == triples(matches)
    # A view that is not C-contiguous reads the right rows.
    strided = np.repeat(queries, 2, axis=0)[::2]
    assert triples(index.search(strided, 8)) == triples(matches)
    # An empty index answers nothing, and can grow.
    nothing = MultiIndexHash()
    assert len(nothing) == nothing.slots == 0
    for strategy in STRATEGIES:
        assert len(nothing.search(queries, 31, strategy=strategy)) == 0
    assert nothing.add(db[:2]).tolist() == [0, 1]
    assert nothing.search_one(bytes(db[1]), 0) == [(1, 0)]


# -- additions ----------------------------------------------------------------------------
def test_additions_match_at_once_and_merge_at_the_delta_limit() -> None:
    rng = np.random.default_rng(8)
    base = clustered_db(rng, 3, 10, 8, 20)
    index = MultiIndexHash(base, delta_limit=10, tables=16)
    everything = base.copy()
    postings_before = index.memory_bytes()["postings"]
    assert postings_before == 4 * 16 * len(base)
    for step in range(9):  # nine single additions stay in the unindexed delta segment
        new = flipped(everything[step], step % 5, rng, 16)[None, :]
        slots = index.add(new)
        assert slots.dtype == np.int64
        assert slots.tolist() == [len(everything)]
        everything = np.concatenate([everything, new])
        assert index.hash_of(int(slots[0])) == bytes(new[0])
        assert (int(slots[0]), 0) in index.search_one(bytes(new[0]), 0)
        assert index.memory_bytes()["postings"] == postings_before  # not rebuilt
        queries = np.stack([flipped(new[0], 3, rng, None), everything[0]])
        for strategy in STRATEGIES:
            assert triples(index.search(queries, 12, strategy=strategy)) == oracle(
                everything, queries, 12
            )
    # The tenth reaches delta_limit: the delta is folded into the tables.
    new = random_hashes(rng, 1)
    assert index.add(new).tolist() == [len(everything)]
    everything = np.concatenate([everything, new])
    assert index.memory_bytes()["postings"] == 4 * 16 * len(everything)
    assert index.slots == len(index) == len(everything)
    # A batch larger than the delta limit (and the delta's first capacity) in one call.
    batch = np.concatenate([random_hashes(rng, 100), everything[:30]])
    assert index.add(batch).tolist() == list(range(len(everything), len(everything) + 130))
    everything = np.concatenate([everything, batch])
    queries = np.stack([flipped(everything[i], i % 20, rng, 24) for i in range(0, 180, 3)])
    for radius in (0, 10, 25, 40):
        for strategy in STRATEGIES:
            got = triples(index.search(queries, radius, strategy=strategy))
            assert got == oracle(everything, queries, radius)
    assert [index.hash_of(s) for s in range(len(everything))] == [bytes(r) for r in everything]


def test_delta_grows_past_its_capacity_without_merging() -> None:
    rng = np.random.default_rng(9)
    index = MultiIndexHash(random_hashes(rng, 5), tables=16)  # default delta_limit 16384
    everything = [index.hash_of(s) for s in range(5)]
    added = [bytes(random_hashes(rng, 1)[0]) for _ in range(300)]
    for i, h in enumerate(added):
        assert index.add([h]).tolist() == [5 + i]
    everything += added
    assert index.memory_bytes()["postings"] == 4 * 16 * 5  # nothing merged
    assert index.memory_bytes()["hashes"] == 32 * 305
    db = np.frombuffer(b"".join(everything), np.uint8).reshape(-1, 32)
    queries = np.stack([flipped(db[i], i % 9, rng, None) for i in range(0, 305, 7)])
    assert triples(index.search(queries, 8)) == oracle(db, queries, 8)
    index.merge()
    assert index.memory_bytes()["postings"] == 4 * 16 * 305
    assert triples(index.search(queries, 8, strategy="index")) == oracle(db, queries, 8)


# -- removals -----------------------------------------------------------------------------
def test_removed_entries_stop_matching_everywhere_and_restore_brings_them_back(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(10)
    main = clustered_db(rng, 2, 8, 6, 10)
    index = MultiIndexHash(main, delta_limit=1000, tables=16)
    delta = np.stack([flipped(main[i], 2, rng, None) for i in range(4)])
    index.add(delta)
    everything = np.concatenate([main, delta])
    n = len(everything)
    live = np.ones(n, dtype=bool)
    queries = np.concatenate([everything, random_hashes(rng, 2)])

    def check(idx: MultiIndexHash) -> None:
        assert len(idx) == int(live.sum())
        assert idx.slots == n
        assert [idx.is_live(s) for s in range(n)] == live.tolist()
        for strategy in STRATEGIES:
            for radius in (0, 6, 30):
                got = triples(idx.search(queries, radius, strategy=strategy))
                assert got == oracle(everything, queries, radius, live)

    in_main, in_delta = 3, len(main) + 1
    assert index.remove([in_main, in_delta]) == 2
    live[[in_main, in_delta]] = False
    assert (in_main, 0) not in index.search_one(bytes(everything[in_main]), 0)
    check(index)
    # Removing again, or slots that never existed, changes nothing.
    assert index.remove([in_main, -1, n, n + 100]) == 0
    assert index.restore([-1, n, 0]) == 0  # slot 0 is live: nothing to restore
    check(index)
    index.merge()
    check(index)
    path = tmp_path / "removed.mih"
    index.save(path)
    for memory_map in (True, False):
        loaded, _ = MultiIndexHash.load(path, memory_map=memory_map)
        check(loaded)
    loaded, _ = MultiIndexHash.load(path)
    assert loaded.restore([in_main, in_main]) == 1
    live[in_main] = True
    check(loaded)
    assert loaded.remove([0]) == 1  # a loaded (memory-mapped) index can still remove
    live[0] = False
    check(loaded)
    # The file itself was not changed by removing from the loaded copy.
    fresh, _ = MultiIndexHash.load(path)
    assert fresh.is_live(0) and not fresh.is_live(in_main)
    index.restore([in_main, in_delta])
    live[:] = True
    check(index)


def test_compacted_drops_removed_entries_and_maps_slots() -> None:
    rng = np.random.default_rng(11)
    main = clustered_db(rng, 2, 10, 6, 20)
    index = MultiIndexHash(main, delta_limit=1000, tables=16)
    index.add(random_hashes(rng, 6))
    everything = np.concatenate([main, index_hashes(index, len(main), index.slots)])
    removed = [0, 4, len(main) - 1, len(main), index.slots - 1]
    index.remove(removed)
    compact, mapping = index.compacted()
    keep = np.ones(len(everything), dtype=bool)
    keep[removed] = False
    assert mapping.dtype == np.int64
    assert mapping.tolist() == np.where(keep, np.cumsum(keep) - 1, -1).tolist()
    assert len(compact) == compact.slots == int(keep.sum())
    assert compact.plan == index.plan
    assert index_hashes(compact, 0, compact.slots).tolist() == everything[keep].tolist()
    queries = np.stack([flipped(everything[i], i % 10, rng, None) for i in range(len(everything))])
    for radius in (0, 9, 31):
        old = triples(index.search(queries, radius))
        new = triples(compact.search(queries, radius))
        back = np.flatnonzero(keep)
        assert sorted((q, int(back[s]), d) for q, s, d in new) == sorted(old)
    # The original is untouched.
    assert len(index) == int(keep.sum()) and index.slots == len(everything)


def index_hashes(index: MultiIndexHash, lo: int, hi: int) -> NDArray[np.uint8]:
    return np.frombuffer(b"".join(index.hash_of(s) for s in range(lo, hi)), np.uint8).reshape(
        -1, 32
    )


# -- a random sequence of operations against a model ------------------------------------
class IndexMachine(RuleBasedStateMachine):
    """add / remove / restore / merge / save+load / compact, checked against a list model."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.saves = 0
        self.index = MultiIndexHash(delta_limit=5, tables=16)
        self.hashes: list[bytes] = []
        self.live: list[bool] = []

    def db(self) -> NDArray[np.uint8]:
        return np.frombuffer(b"".join(self.hashes), np.uint8).reshape(-1, HASH_BYTES)

    def made(self, specs: list[tuple[bytes, bool, int, list[int]]]) -> list[bytes]:
        """Fresh hashes, or existing ones with a few bits flipped (or none: duplicates)."""
        out = []
        for fresh, derive, pick, bits in specs:
            if derive and self.hashes:
                row = bytearray(self.hashes[pick % len(self.hashes)])
                for p in set(bits):
                    row[p // 8] ^= 0x80 >> (p % 8)
                out.append(bytes(row))
            else:
                out.append(fresh)
        return out

    hash_specs = st.lists(
        st.tuples(
            st.binary(min_size=32, max_size=32),
            st.booleans(),
            st.integers(0, 10**6),
            st.lists(st.integers(0, 255), max_size=12),
        ),
        min_size=1,
        max_size=8,
    )

    @rule(specs=hash_specs)
    def add(self, specs: list[tuple[bytes, bool, int, list[int]]]) -> None:
        new = self.made(specs)
        slots = self.index.add(new)
        assert slots.tolist() == list(range(len(self.hashes), len(self.hashes) + len(new)))
        self.hashes += new
        self.live += [True] * len(new)

    @rule(slots=st.lists(st.integers(-2, 60), max_size=6))
    def remove(self, slots: list[int]) -> None:
        expected = {s for s in slots if 0 <= s < len(self.live) and self.live[s]}
        assert self.index.remove(slots) == len(expected)
        for s in expected:
            self.live[s] = False

    @rule(slots=st.lists(st.integers(-2, 60), max_size=6))
    def restore(self, slots: list[int]) -> None:
        expected = {s for s in slots if 0 <= s < len(self.live) and not self.live[s]}
        assert self.index.restore(slots) == len(expected)
        for s in expected:
            self.live[s] = True

    @rule()
    def merge(self) -> None:
        self.index.merge()
        assert self.index.memory_bytes()["postings"] == 4 * 16 * len(self.hashes)

    @rule(memory_map=st.booleans())
    def save_and_load(self, memory_map: bool) -> None:
        self.saves += 1
        path = self.directory / f"machine-{self.saves % 3}.mih"
        self.index.save(path, {"n": np.array([len(self.hashes)])})
        self.index, extra = MultiIndexHash.load(path, memory_map=memory_map)
        assert extra["n"].tolist() == [len(self.hashes)]
        assert self.index.delta_limit == 5

    @rule()
    def compact(self) -> None:
        self.index, mapping = self.index.compacted()
        kept = [i for i, alive in enumerate(self.live) if alive]
        assert mapping.tolist() == [
            kept.index(i) if alive else -1 for i, alive in enumerate(self.live)
        ]
        self.hashes = [self.hashes[i] for i in kept]
        self.live = [True] * len(kept)

    @precondition(lambda self: self.hashes)
    @rule(
        specs=hash_specs,
        radius=st.integers(0, 40),
        strategy=st.sampled_from(STRATEGIES),
    )
    def search(self, specs: list[tuple[bytes, bool, int, list[int]]], radius: int, strategy: str):
        queries = np.frombuffer(b"".join(self.made(specs)), np.uint8).reshape(-1, 32)
        got = triples(self.index.search(queries, radius, strategy=strategy))
        assert got == oracle(self.db(), queries, radius, np.array(self.live))

    @invariant()
    def sizes(self) -> None:
        assert len(self.index) == sum(self.live)
        assert self.index.slots == len(self.hashes)
        for slot in (0, len(self.hashes) // 2, len(self.hashes) - 1):
            if self.hashes:
                assert self.index.hash_of(slot) == self.hashes[slot]
                assert self.index.is_live(slot) == self.live[slot]


def test_random_operation_sequences_match_the_model(tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: IndexMachine(tmp_path),
        settings=settings(max_examples=30, stateful_step_count=20, deadline=None, database=None),
    )


# -- files --------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, MultiIndexHash, NDArray[np.uint8], NDArray[np.uint8]]:
    rng = np.random.default_rng(12)
    db = clustered_db(rng, 3, 15, 10, 60)
    index = MultiIndexHash(db, delta_limit=77, tables=16)
    extra_hashes = random_hashes(rng, 5)
    index.add(extra_hashes)  # in the delta: save must fold it in
    index.remove([2, len(db) + 1])
    path = tmp_path / "bank.mih"
    index.save(path)
    everything = np.concatenate([db, extra_hashes])
    queries = np.concatenate(
        [np.stack([flipped(everything[i], i % 30, rng, 24) for i in range(0, len(db), 2)])]
    )
    return path, index, everything, queries


@pytest.mark.parametrize("memory_map", [True, False])
def test_save_load_round_trip_gives_identical_searches(saved, memory_map: bool) -> None:
    path, index, everything, queries = saved
    loaded, extra = MultiIndexHash.load(path, memory_map=memory_map)
    assert extra == {}
    assert loaded.plan == index.plan
    assert loaded.delta_limit == 77
    assert len(loaded) == len(index) == len(everything) - 2
    assert loaded.slots == len(everything)
    assert not loaded.is_live(2) and loaded.is_live(3)
    assert loaded.memory_bytes() == index.memory_bytes()
    live = np.array([index.is_live(s) for s in range(len(everything))])
    for radius in (0, 5, 16, 31, 48):
        for strategy in STRATEGIES:
            got = triples(loaded.search(queries, radius, strategy=strategy))
            assert got == triples(index.search(queries, radius, strategy=strategy))
            assert got == oracle(everything, queries, radius, live)
    # A loaded index keeps working as a live one: add, merge, save again.
    new = np.stack([flipped(everything[0], 1, np.random.default_rng(0), None)])
    assert loaded.add(new).tolist() == [len(everything)]
    assert loaded.search_one(bytes(new[0]), 0)[0] == (len(everything), 0)
    loaded.merge()
    again = path.with_name("again.mih")
    loaded.save(again)
    reloaded, _ = MultiIndexHash.load(again, memory_map=memory_map)
    assert reloaded.slots == len(everything) + 1
    assert triples(reloaded.search(queries, 20)) == triples(loaded.search(queries, 20))


@pytest.mark.parametrize("memory_map", [True, False])
def test_extra_arrays_round_trip(tmp_path: Path, memory_map: bool) -> None:
    rng = np.random.default_rng(13)
    index = MultiIndexHash(random_hashes(rng, 10))
    extra = {
        "ids": np.arange(10, dtype=np.int64) * 7,
        "matrix": rng.standard_normal((3, 4)).astype(np.float32),
        "transposed": np.arange(12, dtype=np.uint16).reshape(3, 4).T,  # not C-contiguous
        "empty": np.zeros((0, 16), dtype=np.uint8),
        "blob": np.frombuffer("grüße".encode(), np.uint8),
    }
    path = tmp_path / "extra.mih"
    index.save(path, extra)
    _, got = MultiIndexHash.load(path, memory_map=memory_map)
    assert set(got) == set(extra)
    for name, array in extra.items():
        assert got[name].dtype == array.dtype, name
        assert got[name].shape == array.shape, name
        np.testing.assert_array_equal(got[name], array)
    assert bytes(got["blob"]).decode() == "grüße"


def test_empty_index_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "empty.mih"
    MultiIndexHash().save(path)
    for memory_map in (True, False):
        loaded, _ = MultiIndexHash.load(path, memory_map=memory_map)
        assert len(loaded) == loaded.slots == 0
        assert len(loaded.search(np.zeros((1, 32), np.uint8), 31)) == 0


def _data_end(path: Path) -> tuple[int, int]:
    """(where the sections' data starts, where the last byte of real data ends)."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    data_start = -(-(12 + length) // 4096) * 4096
    end = max(
        int(spec["offset"]) + math.prod(spec["shape"]) * np.dtype(spec["dtype"]).itemsize
        for spec in header["sections"].values()
    )
    return data_start, data_start + end


def _with_header(path: Path, header: bytes) -> bytes:
    """The file's bytes with its JSON header replaced (the data stays where it was)."""
    raw = path.read_bytes()
    data_start, _ = _data_end(path)
    prefix = b"HAVENMIH" + struct.pack("<I", len(header)) + header
    assert len(prefix) <= data_start
    return prefix.ljust(data_start, b"\0") + raw[data_start:]


@pytest.mark.parametrize("memory_map", [True, False])
def test_truncated_files_raise_index_file_error(saved, tmp_path: Path, memory_map: bool) -> None:
    path = saved[0]
    raw = path.read_bytes()
    data_start, end = _data_end(path)
    assert end <= len(raw)
    cut_path = tmp_path / "cut.mih"
    for cut in sorted(
        {1, 7, 8, 11, 12, 40, data_start - 1, data_start, data_start + 1000, end - 1}
    ):
        cut_path.write_bytes(raw[:cut])
        with pytest.raises(IndexFileError):
            MultiIndexHash.load(cut_path, memory_map=memory_map)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"HAVENMI",
        b"NOTHAVEN" + b"\0" * 5000,
        b"havenmih" + b"\0" * 5000,
        b"HAVENMIH" + struct.pack("<I", 2**31) + b"{}",
        b"HAVENMIH" + struct.pack("<I", 9) + b"{not json" + b"\0" * 5000,
        b"HAVENMIH" + struct.pack("<I", 4) + b"\xff\xfe\xfd\xfc" + b"\0" * 5000,
    ],
    ids=["empty", "short", "wrong-magic", "lowercase-magic", "huge-header", "bad-json", "bytes"],
)
@pytest.mark.parametrize("memory_map", [True, False])
def test_foreign_files_raise_index_file_error(
    tmp_path: Path, content: bytes, memory_map: bool
) -> None:
    path = tmp_path / "foreign.mih"
    path.write_bytes(content)
    with pytest.raises(IndexFileError):
        MultiIndexHash.load(path, memory_map=memory_map)


@pytest.mark.parametrize(
    "header",
    [
        b"[]",
        b"5",
        b'"HAVENMIH"',
        b"null",
        b'{"version": 2, "sections": [], "meta": {}}',
        b'{"version": 2, "sections": {}, "meta": [1]}',
        b'{"version": 2, "sections": {"hashes": 5}, "meta": {}}',
    ],
    ids=["list", "number", "string", "null", "sections-list", "meta-list", "section-number"],
)
def test_header_json_of_the_wrong_shape_raises_index_file_error(
    saved, tmp_path: Path, header: bytes
) -> None:
    """Valid JSON that is not the header's object structure is a damaged file too."""
    path = tmp_path / "shape.mih"
    path.write_bytes(_with_header(saved[0], header))
    with pytest.raises(IndexFileError):
        MultiIndexHash.load(path)


def test_damaged_headers_raise_index_file_error(saved, tmp_path: Path) -> None:
    path = saved[0]
    raw = path.read_bytes()
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    target = tmp_path / "damaged.mih"

    def write(changed: dict) -> None:
        target.write_bytes(_with_header(path, json.dumps(changed).encode()))

    write(header)  # control: rewriting the header unchanged gives a loadable file
    assert MultiIndexHash.load(target)[0].slots == saved[1].slots

    damaged = [
        {**header, "version": 99},
        {k: v for k, v in header.items() if k != "version"},
        {**header, "meta": {**header["meta"], "plan": [[0, 128], [128, 128]]}},
        {**header, "meta": {**header["meta"], "plan": [[0, 16]] * 15 + [[240, 15]]}},
        {**header, "meta": {**header["meta"], "plan": "sixteen"}},
        {**header, "meta": {k: v for k, v in header["meta"].items() if k != "plan"}},
        {**header, "sections": {k: v for k, v in header["sections"].items() if k != "dead"}},
        {
            **header,
            "sections": {
                **header["sections"],
                "dead": {**header["sections"]["dead"], "shape": [3]},
            },
        },
        {
            **header,
            "sections": {
                **header["sections"],
                "postings": {**header["sections"]["postings"], "offset": 10**12},
            },
        },
        {
            **header,
            "sections": {
                **header["sections"],
                "offsets": {**header["sections"]["offsets"], "dtype": "not a dtype"},
            },
        },
    ]
    for changed in damaged:
        write(changed)
        with pytest.raises(IndexFileError):
            MultiIndexHash.load(target)


@pytest.mark.parametrize(
    ("section", "dtype"),
    [("hashes", "<f8"), ("hashes", "<u2"), ("postings", "<u8"), ("dead", "<u4")],
)
def test_sections_of_the_wrong_dtype_raise_index_file_error(
    saved, tmp_path: Path, section: str, dtype: str
) -> None:
    """A header that declares another element type for a section (same shape, so the bytes
    still fit in the file) is damage that `load` must report, not an index whose searches
    then fail or read the wrong bytes."""
    path = saved[0]
    raw = path.read_bytes()
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    spec = header["sections"][section]
    header["sections"][section] = {**spec, "dtype": dtype}
    target = tmp_path / "dtype.mih"
    target.write_bytes(_with_header(path, json.dumps(header).encode()))
    with pytest.raises(IndexFileError):
        MultiIndexHash.load(target)


_SEARCH_DAMAGED = """
import sys
import numpy as np
from haven.index import IndexFileError, MultiIndexHash
try:
    index, _ = MultiIndexHash.load(sys.argv[1])
    index.search(np.zeros((4, 32), np.uint8), 10, strategy="index")
except (IndexFileError, ValueError) as exc:
    print("rejected", type(exc).__name__)
else:
    print("searched")
"""


def test_damaged_bucket_offsets_are_rejected_not_followed(saved, tmp_path: Path) -> None:
    """Bucket offsets past the postings (a damaged file) must be refused, by `load` or by the
    search; following them reads out of bounds (run in a child: it may crash)."""
    path = saved[0]
    raw = bytearray(path.read_bytes())
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    data_start, _ = _data_end(path)
    assert header["meta"]["plan"][:2] == [[0, 16], [16, 16]]
    # The second table's bucket starts, all pointing far past the postings; its last entry
    # (the total) is left right.
    second = data_start + int(header["sections"]["offsets"]["offset"]) + 4 * (2**16 + 1)
    damaged = np.full(2**16 + 1, 3_000_000, dtype="<u4")
    damaged[0] = 0
    damaged[-1] = saved[1].slots
    raw[second : second + 4 * (2**16 + 1)] = damaged.tobytes()
    target = tmp_path / "offsets.mih"
    target.write_bytes(bytes(raw))
    child = subprocess.run(
        [sys.executable, "-c", _SEARCH_DAMAGED, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, f"the search crashed (exit {child.returncode}): {child.stderr}"
    assert child.stdout.startswith("rejected"), child.stdout + child.stderr


def test_bucket_offsets_that_disagree_with_the_hashes_are_rejected(saved, tmp_path: Path) -> None:
    path = saved[0]
    raw = bytearray(path.read_bytes())
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    data_start, _ = _data_end(path)
    offsets = header["sections"]["offsets"]
    first_table_end = data_start + int(offsets["offset"]) + 4 * 2**16  # offsets[2**bits]
    raw[first_table_end : first_table_end + 4] = struct.pack("<I", 12345)
    target = tmp_path / "offsets.mih"
    target.write_bytes(bytes(raw))
    with pytest.raises(IndexFileError):
        MultiIndexHash.load(target)


def test_save_never_leaves_a_temporary_file(saved) -> None:
    path = saved[0]
    assert sorted(p.name for p in path.parent.iterdir()) == ["bank.mih"]


# -- plans and thresholds -----------------------------------------------------------------
def test_even_plan_is_the_index_layout() -> None:
    assert MultiIndexHash(tables=16).plan == even_plan(16)
    assert MultiIndexHash(tables=16).plan == tuple((16 * i, 16) for i in range(16))


@pytest.mark.parametrize("n", [0, 1, 1000, 100_000, 10_000_000])
@pytest.mark.parametrize("tables", range(11, 17))
def test_thresholds_cover_every_radius_by_pigeonhole(n: int, tables: int) -> None:
    plan = even_plan(tables)
    for radius in range(0, 101):
        forced = table_thresholds(plan, n, radius, force=True)
        probe_able = radius + 1 <= sum(min(bits, 5) + 1 for _, bits in plan)
        if not probe_able:
            assert forced is None
            assert table_thresholds(plan, n, radius) is None
            continue
        assert forced is not None, radius
        assert forced.dtype == np.int8 and forced.shape == (tables,)
        assert forced.min() >= -1 and forced.max() <= 5
        # The generalised pigeonhole condition over the probed tables.
        probed = forced[forced >= 0]
        assert int((probed.astype(int) + 1).sum()) >= radius + 1
        chosen = table_thresholds(plan, n, radius)
        assert chosen is None or chosen.tolist() == forced.tolist()


@settings(max_examples=40, deadline=None, database=None)
@given(
    tables=st.integers(11, 16),
    seed=st.integers(0, 2**32 - 1),
    radius=st.integers(0, 60),
)
def test_thresholds_guarantee_a_close_table_for_every_near_pair(
    tables: int, seed: int, radius: int
) -> None:
    """For any two hashes within `radius`, some probed table's keys are within its threshold
    (what makes MIH exact), checked directly on random worst-case-ish pairs."""
    plan = even_plan(tables)
    thresholds = table_thresholds(plan, 1000, radius, force=True)
    assert thresholds is not None
    rng = np.random.default_rng(seed)
    for _ in range(20):
        a = random_hashes(rng, 1)[0]
        # Spread the differences evenly-ish over the tables: the hardest case for pigeonhole.
        b = a.copy()
        per = rng.multinomial(radius, np.ones(tables) / tables)
        for (start, width), k in zip(plan, per.tolist(), strict=True):
            k = min(k, width)
            for p in start + rng.choice(width, size=k, replace=False):
                b[p // 8] ^= 0x80 >> (p % 8)
        bits = np.unpackbits(a ^ b)
        assert bits.sum() <= radius
        chunk = [int(bits[start : start + width].sum()) for start, width in plan]
        assert any(t >= 0 and d <= t for d, t in zip(chunk, thresholds.tolist(), strict=True)), (
            chunk,
            thresholds,
        )


@pytest.mark.parametrize("n", [0, 1, 10, 1000, 50_000, 10**6, 3 * 10**6, 10**7, 10**8])
def test_planned_tables_cut_256_bits_into_short_keys(n: int) -> None:
    plan = plan_tables(n)
    assert 11 <= len(plan) <= 16
    assert sum(bits for _, bits in plan) == HASH_BITS
    assert all(bits <= 24 for _, bits in plan)
    starts = [start for start, _ in plan]
    assert starts == [sum(bits for _, bits in plan[:i]) for i in range(len(plan))]
    assert max(b for _, b in plan) - min(b for _, b in plan) <= 1
    offsets = 4 * sum(2**bits + 1 for _, bits in plan)
    per_hash = 32 + 1 + 4 * len(plan) + offsets / max(n, 1)
    if len(plan) != 16:
        assert per_hash <= 128  # the planner's memory budget


def test_bigger_indexes_get_longer_keys() -> None:
    small, large = plan_tables(1000), plan_tables(10_000_000)
    assert len(large) < len(small)
    assert min(b for _, b in large) > max(b for _, b in small)
    # The module's documented figures: 11 tables of 23-24 bits, 124 bytes per hash at 10M.
    assert len(large) == 11 and {b for _, b in large} == {23, 24}
    offsets = 4 * sum(2**bits + 1 for _, bits in large)
    assert round(offsets / 10_000_000) == 47
    assert round(32 + 4 * 11 + 1 + offsets / 10_000_000) == 124
    assert [len(plan_tables(n)) for n in (10**3, 10**5, 10**6, 10**7)] == sorted(
        [len(plan_tables(n)) for n in (10**3, 10**5, 10**6, 10**7)], reverse=True
    )


def test_memory_bytes_matches_the_documented_layout() -> None:
    rng = np.random.default_rng(14)
    n = 50_000
    index = MultiIndexHash(random_hashes(rng, n))
    plan = index.plan
    m = len(plan)
    offsets = 4 * sum(2**bits + 1 for _, bits in plan)
    assert index.memory_bytes() == {
        "hashes": 32 * n,
        "postings": 4 * m * n,
        "bucket_offsets": offsets,
        "tombstones": n,
    }
    per_hash = sum(index.memory_bytes().values()) / n
    assert per_hash == pytest.approx(32 + 4 * m + 1 + offsets / n)
    index.add(random_hashes(rng, 10))  # the delta: its hashes and tombstones, no postings yet
    assert index.memory_bytes() == {
        "hashes": 32 * (n + 10),
        "postings": 4 * m * n,
        "bucket_offsets": offsets,
        "tombstones": n + 10,
    }


# -- input validation ---------------------------------------------------------------------
BAD_SHAPES = [
    np.zeros((3, 31), np.uint8),
    np.zeros((3, 33), np.uint8),
    np.zeros((2, 2, 32), np.uint8),
    np.zeros(33, np.uint8),
    b"\0" * 33,
    np.zeros((), np.uint8),
]
BAD_DTYPES = [
    np.zeros((3, 32), np.float64),
    np.zeros((3, 32), np.int8),
    np.zeros((3, 32), np.uint16),
    np.zeros((3, 32), bool),
]


@pytest.mark.parametrize("bad", BAD_SHAPES, ids=lambda b: f"shape{np.shape(b)}")
def test_wrong_shapes_raise_value_error(bad) -> None:
    with pytest.raises(ValueError):
        MultiIndexHash(bad)
    index = MultiIndexHash(np.zeros((2, 32), np.uint8), tables=16)
    with pytest.raises(ValueError):
        index.search(bad, 3)
    with pytest.raises(ValueError):
        index.add(bad)
    assert index.slots == len(index) == 2  # a refused addition leaves no trace


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=lambda b: str(b.dtype))
def test_wrong_dtypes_raise_type_error(bad) -> None:
    with pytest.raises(TypeError):
        MultiIndexHash(bad)
    index = MultiIndexHash(np.zeros((2, 32), np.uint8), tables=16)
    with pytest.raises(TypeError):
        index.search(bad, 3)
    with pytest.raises(TypeError):
        index.add(bad)
    assert index.slots == 2


def test_hashes_given_as_bytes_must_each_be_32_bytes() -> None:
    """Two wrong-length hashes whose lengths happen to sum to 64 are not two hashes."""
    with pytest.raises(ValueError):
        as_hash_array([b"\1" * 31, b"\2" * 33])
    index = MultiIndexHash(np.zeros((2, 32), np.uint8), tables=16)
    with pytest.raises(ValueError):
        index.search([b"\0" * 31, b"\0" * 33], 3)
    with pytest.raises(ValueError):
        index.add([b"\0" * 16, b"\0" * 48])
    assert index.slots == 2


def test_as_hash_array_shapes_without_copying() -> None:
    rng = np.random.default_rng(15)
    db = random_hashes(rng, 4)
    assert as_hash_array(db) is db or np.shares_memory(as_hash_array(db), db)
    assert as_hash_array(db.reshape(-1)).shape == (4, 32)
    assert as_hash_array([bytes(r) for r in db]).tolist() == db.tolist()
    assert as_hash_array(b"").shape == (0, 32)
    assert as_hash_array([]).shape == (0, 32)


@pytest.mark.parametrize("radius", [-1, -100, 257, 1000])
def test_radius_out_of_range_raises_value_error(radius: int) -> None:
    index = MultiIndexHash(np.zeros((2, 32), np.uint8), tables=16)
    for strategy in STRATEGIES:
        with pytest.raises(ValueError, match="radius"):
            index.search(np.zeros((1, 32), np.uint8), radius, strategy=strategy)


def test_other_bad_arguments() -> None:
    for tables in (0, 10, 17, 32):
        with pytest.raises(ValueError):
            MultiIndexHash(tables=tables)
    index = MultiIndexHash(np.zeros((2, 32), np.uint8), tables=16)
    with pytest.raises(ValueError, match="strategy"):
        index.search(np.zeros((1, 32), np.uint8), 3, strategy="fast")
    with pytest.raises(IndexError):
        index.hash_of(2)
    with pytest.raises(IndexError):
        index.hash_of(-1)
    assert not index.is_live(-1) and not index.is_live(2)


@pytest.mark.parametrize("budget", [64, 128, 160, 256, 1024])
@pytest.mark.parametrize("n", [10**4, 10**6, 3 * 10**6, 10**7])
def test_the_memory_budget_bounds_the_plan(n: int, budget: int) -> None:
    plan = plan_tables(n, bytes_per_hash=budget)
    offsets = 4 * sum(2**bits + 1 for _, bits in plan)
    per_hash = 32 + 1 + 4 * len(plan) + offsets / n
    assert len(plan) == 16 or per_hash <= budget
    # A larger budget never buys shorter keys.
    assert len(plan_tables(n, bytes_per_hash=budget * 2)) <= len(plan)


def test_the_calibrated_plans_at_one_million() -> None:
    # Measured on clustered lists at 1M (BENCHMARKS.md): 14 tables within 128 B/hash,
    # 12 (about 1.7x faster) within the matcher's 256.
    assert len(plan_tables(10**6)) == 14
    assert len(plan_tables(10**6, bytes_per_hash=256)) == 12


@pytest.mark.slow
def test_the_budget_survives_merges_compaction_and_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    db = rng.integers(0, 256, (1_000_000, 32), dtype=np.uint8)
    wide = plan_tables(10**6, bytes_per_hash=256)
    assert wide != plan_tables(10**6)  # so keeping the budget is visible
    index = MultiIndexHash(db[:990_000], bytes_per_hash=256, delta_limit=5_000)
    index.add(db[990_000:])  # two merges, each replanned with the same budget
    assert index.plan == wide
    compact, _ = index.compacted()
    assert compact.plan == wide
    index.save(tmp_path / "i.hvi")
    loaded, _ = MultiIndexHash.load(tmp_path / "i.hvi")
    loaded.add(rng.integers(0, 256, (5_000, 32), dtype=np.uint8))  # merges after loading
    assert loaded.plan == plan_tables(len(loaded), bytes_per_hash=256) == wide
    with pytest.raises(ValueError, match="bytes_per_hash"):
        MultiIndexHash(db[:10], bytes_per_hash=0)
