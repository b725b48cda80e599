"""MinHash and LSH against brute-force oracles (exact Jaccard, every pair)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from datasketch import MinHash

from haven.text.minhash import (
    MinHasher,
    MinHashError,
    ShingleSets,
    candidate_pairs,
    collision_probability,
    estimate_jaccard,
    shingle_sets,
)

K = 3


def _python_sets(docs: list[list[str]]) -> list[set[tuple[str, ...]]]:
    return [
        {tuple(d[i : i + K]) for i in range(len(d) - K + 1)} if len(d) >= K else {tuple(d)}
        for d in docs
    ]


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _corpus(seed: int, bases: int = 40, variants: int = 5) -> list[list[str]]:
    """Random base texts and mutated copies: a spread of similarities from 0 to 1."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)] + [str(d) for d in range(100)] + ["🌹", "🍒"]
    docs: list[list[str]] = []
    for _ in range(bases):
        base = [rng.choice(vocab) for _ in range(rng.randrange(30, 90))]
        docs.append(base)
        for _ in range(variants):
            rate = rng.choice((0.0, 0.02, 0.05, 0.1, 0.2, 0.35))
            docs.append([rng.choice(vocab) if rng.random() < rate else t for t in base])
    return docs


def test_shingle_sets_match_python_sets_exactly() -> None:
    docs = [*_corpus(1, bases=10), ["one"], [], ["a", "b"]]
    sets = shingle_sets(docs, K)
    oracle = _python_sets(docs)
    assert len(sets) == len(docs)
    for i, s in enumerate(oracle):
        assert sets.get(i).size == (len(s) if docs[i] else 0)
        assert np.all(np.diff(sets.get(i).astype(np.int64)) > 0)  # sorted, no duplicates
    for i, j in itertools.combinations(range(len(docs)), 2):
        assert sets.jaccard(i, j) == pytest.approx(_jaccard(oracle[i], oracle[j]))


def test_signatures_are_deterministic_and_seeded() -> None:
    sets = shingle_sets(_corpus(2, bases=5), K)
    a = MinHasher(64, seed=7).signatures(sets)
    assert np.array_equal(a, MinHasher(64, seed=7).signatures(sets))
    assert not np.array_equal(a, MinHasher(64, seed=8).signatures(sets))
    assert a.shape == (len(sets), 64) and a.dtype == np.uint32


def test_empty_set_has_an_all_max_row_and_never_collides() -> None:
    sets = shingle_sets([[], [], ["a", "b", "c"]], K)
    sig = MinHasher(32).signatures(sets)
    assert np.all(sig[:2] == 0xFFFFFFFF)
    assert candidate_pairs(sig, bands=8, rows=4).size == 0


def test_estimates_track_exact_jaccard_and_agree_with_datasketch() -> None:
    docs = _corpus(3, bases=20)
    sets = shingle_sets(docs, K)
    sig = MinHasher(128, seed=1).signatures(sets)
    pairs = np.array(list(itertools.combinations(range(len(docs)), 2)), dtype=np.int64)
    est = estimate_jaccard(sig, pairs)
    exact = np.array([sets.jaccard(i, j) for i, j in pairs.tolist()])
    # standard error of a 128-row estimate is sqrt(J(1-J)/128) <= 0.045
    assert np.mean(np.abs(est - exact)) < 0.02
    assert np.max(np.abs(est - exact)) < 0.2
    # datasketch's MinHash estimates the same quantity within the same error
    hashed = [[int(v).to_bytes(4, "little") for v in sets.get(i)] for i in range(len(docs))]
    sketches = []
    for values in hashed:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(values)
        sketches.append(m)
    ds = np.array([sketches[i].jaccard(sketches[j]) for i, j in pairs[:400].tolist()])
    assert np.mean(np.abs(ds - exact[:400])) < 0.03
    assert np.mean(np.abs(ds - est[:400])) < 0.04


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lsh_finds_similar_pairs_like_the_brute_force_oracle(seed: int) -> None:
    """Bound: a pair of Jaccard s is proposed with probability 1 - (1 - s^5)^25.

    For s >= 0.8 that is >= 0.99995, so over the few hundred such pairs of this corpus
    the chance of missing one is under 2 %; the seeds here are fixed, so the test is
    deterministic. For s in [0.6, 0.8) the rate must come close to the formula (>= 0.87
    at s = 0.6; 0.8 allowed), and pairs far below the threshold are rarely proposed.
    """
    docs = _corpus(seed)
    sets = shingle_sets(docs, K)
    sig = MinHasher(128, seed=seed).signatures(sets)
    found = {tuple(p) for p in candidate_pairs(sig, bands=25, rows=5).tolist()}
    exact = {(i, j): sets.jaccard(i, j) for i, j in itertools.combinations(range(len(docs)), 2)}
    high = [p for p, s in exact.items() if s >= 0.8]
    mid = [p for p, s in exact.items() if 0.6 <= s < 0.8]
    low = [p for p, s in exact.items() if s < 0.2]
    assert len(high) > 100 and len(mid) > 10
    assert all(p in found for p in high)
    assert sum(p in found for p in mid) / len(mid) >= 0.8
    assert sum(p in found for p in low) / len(low) < 0.001
    assert collision_probability(0.8, 25, 5) > 0.9999


def test_candidate_pairs_are_unique_and_ordered() -> None:
    sets = shingle_sets(_corpus(4), K)
    pairs = candidate_pairs(MinHasher(128).signatures(sets), bands=25, rows=5)
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)


def test_oversized_bucket_is_windowed_but_stays_connected() -> None:
    sig = np.tile(np.arange(16, dtype=np.uint32), (200, 1))
    pairs = candidate_pairs(sig, bands=4, rows=4, max_bucket=64, window=3)
    assert len(pairs) == 199 + 198 + 197
    assert {int(d) for d in pairs[:, 1] - pairs[:, 0]} == {1, 2, 3}
    assert len(candidate_pairs(sig, bands=4, rows=4, max_bucket=200)) == 200 * 199 // 2


def test_parameter_errors() -> None:
    sig = np.zeros((3, 16), np.uint32)
    with pytest.raises(MinHashError):
        candidate_pairs(sig, bands=5, rows=4)
    with pytest.raises(MinHashError):
        MinHasher(0)
    with pytest.raises(MinHashError):
        shingle_sets([["a"]], 0)
    with pytest.raises(MinHashError):
        ShingleSets(np.zeros(2, np.uint32), np.array([0, 1], np.int64))
