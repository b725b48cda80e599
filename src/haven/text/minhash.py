"""MinHash signatures and LSH banding in numpy, for near-duplicate ads at the million scale.

Why: comparing every pair of a million ads is 5 x 10^11 comparisons. MinHash turns each
ad's set of shingles into a short signature whose agreement rate estimates the Jaccard
similarity of the sets; LSH banding then only proposes pairs that agree on a whole band,
which for Jaccard s happens with probability 1 - (1 - s^rows)^bands. The proposed pairs
are checked again (estimate first, then the exact Jaccard of the shingle sets), so LSH
only ever costs recall, never precision.

Everything is vectorised (datasketch computes one set at a time in Python) and
deterministic: shingles are hashed with CRC-32 and a fixed 64-bit mixer, never with
Python's per-process randomised `hash`, and the permutations come from `seed`.

Hash family: h_i(x) = (a_i * x + b_i) mod 2^64 >> 32 for a 32-bit shingle hash x and
random odd 64-bit a_i, b_i (multiply-shift, Dietzfelbinger et al. 1996), which is
universal for 32-bit outputs and costs one multiply and one add per shingle and row.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MinHashError",
    "MinHasher",
    "ShingleSets",
    "candidate_pairs",
    "collision_probability",
    "estimate_jaccard",
    "shingle_sets",
]

_MIX_A = np.uint64(0x9E3779B97F4A7C15)
_MIX_B = np.uint64(0xBF58476D1CE4E5B9)
_MIX_C = np.uint64(0x94D049BB133111EB)
_EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK_CELLS = 1 << 24  # shingles x permutations per block (128 MiB of uint64)


class MinHashError(ValueError):
    """Bad parameters or inputs for MinHash or LSH."""


def _fmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX_B
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX_C
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class ShingleSets:
    """Many sets of 32-bit shingle hashes in one array: set i is values[offsets[i]:offsets[i+1]].

    Each set is sorted and free of duplicates, so exact Jaccard is a merge, not a hash join.
    """

    values: NDArray[np.uint32]
    offsets: NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.offsets.ndim != 1 or self.offsets.size < 1 or int(self.offsets[0]) != 0:
            raise MinHashError("offsets must be a 1-d array starting at 0")
        if int(self.offsets[-1]) != self.values.size:
            raise MinHashError("offsets must end at len(values)")

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    def get(self, i: int) -> NDArray[np.uint32]:
        return self.values[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def jaccard(self, i: int, j: int) -> float:
        """Exact Jaccard similarity of sets i and j (two empty sets: 0.0)."""
        a, b = self.get(i), self.get(j)
        if a.size == 0 or b.size == 0:
            return 0.0
        if a.size > b.size:
            a, b = b, a
        pos = np.searchsorted(b, a)
        pos[pos == b.size] = 0
        inter = int(np.count_nonzero(b[pos] == a))
        return inter / (a.size + b.size - inter)

    @staticmethod
    def concat(parts: Sequence[ShingleSets]) -> ShingleSets:
        if not parts:
            return ShingleSets(np.empty(0, np.uint32), np.zeros(1, np.int64))
        values = np.concatenate([p.values for p in parts])
        offsets = [np.zeros(1, np.int64)]
        base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.values.size)
        return ShingleSets(values, np.concatenate(offsets))


def shingle_sets(token_lists: Iterable[Sequence[str]], k: int = 3) -> ShingleSets:
    """Hash the k-token shingles of each token list into a sorted set of uint32.

    A text shorter than k tokens is one shingle; an empty text is an empty set. Tokens are
    hashed with CRC-32 (stable across processes), shingles by mixing k token hashes.
    """
    if k < 1:
        raise MinHashError(f"shingle size must be >= 1, got {k}")
    cache: dict[str, int] = {}
    ids: list[int] = []
    lengths: list[int] = []
    pad = [0] * (k - 1)
    for tokens in token_lists:
        for token in tokens:
            value = cache.get(token)
            if value is None:
                value = zlib.crc32(token.encode("utf-8", "surrogatepass")) + 1
                cache[token] = value
            ids.append(value)
        ids.extend(pad)
        lengths.append(len(tokens))
    n = len(lengths)
    lens = np.asarray(lengths, dtype=np.int64)
    tok = np.asarray(ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = tok.copy()
        for j in range(1, k):
            shifted = np.zeros_like(tok)
            shifted[:-j] = tok[j:]
            h = h * _MIX_A + shifted
        h = _fmix64(h) >> np.uint64(32)
    counts = np.where(lens >= k, lens - k + 1, np.minimum(lens, 1))
    starts = np.zeros(n, np.int64)
    if n:
        starts[1:] = np.cumsum(lens + (k - 1))[:-1]
    # index of every shingle start: starts[d] + 0 .. counts[d]-1
    total = int(counts.sum())
    doc = np.repeat(np.arange(n, dtype=np.int64), counts)
    first = np.zeros(n, np.int64)
    if n:
        first[1:] = np.cumsum(counts)[:-1]
    pos = starts[doc] + (np.arange(total, dtype=np.int64) - first[doc])
    values = h[pos].astype(np.uint32)
    # sort within each set and drop duplicates: sort by (doc, value)
    key = (doc.astype(np.uint64) << np.uint64(32)) | values.astype(np.uint64)
    key.sort()
    keep = np.ones(key.size, dtype=bool)
    keep[1:] = key[1:] != key[:-1]
    key = key[keep]
    doc_sorted = (key >> np.uint64(32)).astype(np.int64)
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(np.bincount(doc_sorted, minlength=n))
    return ShingleSets((key & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets)


@dataclass(frozen=True)
class MinHasher:
    """`num_perm` seeded hash functions; `signatures` maps shingle sets to uint32 rows."""

    num_perm: int = 128
    seed: int = 0
    a: NDArray[np.uint64] = field(init=False, repr=False, compare=False)
    b: NDArray[np.uint64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.num_perm, int) or not 1 <= self.num_perm <= 4096:
            raise MinHashError(f"num_perm must be an int in 1..4096, got {self.num_perm!r}")
        rng = np.random.default_rng(np.random.PCG64(self.seed))
        words = rng.integers(0, 2**63, size=(2, self.num_perm), dtype=np.int64).astype(np.uint64)
        words = (words << np.uint64(1)) | np.uint64(1)  # odd multipliers
        object.__setattr__(self, "a", words[0])
        object.__setattr__(self, "b", words[1])

    def signatures(self, sets: ShingleSets) -> NDArray[np.uint32]:
        """(len(sets), num_perm) minimum hash values; an empty set's row is all 0xFFFFFFFF."""
        n = len(sets)
        out = np.full((n, self.num_perm), _EMPTY, dtype=np.uint32)
        sizes = np.diff(sets.offsets)
        block = max(1, _CHUNK_CELLS // self.num_perm)
        lo = 0
        ends = sets.offsets[1:]
        # one buffer reused for every block: fresh 100 MiB arrays cost more in page faults
        # than the arithmetic itself
        widest = block
        if n:
            widest = max(block, int(sizes.max()))
        buffer = np.empty((self.num_perm, min(widest, max(1, sets.values.size))), np.uint64)
        while lo < n:
            # as many whole sets as fit in one block of shingles (at least one set)
            base = int(sets.offsets[lo])
            hi = int(np.searchsorted(ends, base + block, side="right"))
            hi = max(hi, lo + 1)
            chunk = sets.values[base : int(sets.offsets[hi])].astype(np.uint64)
            if chunk.size:
                # permutations along rows, shingles along the contiguous axis: reduceat
                # over contiguous memory is several times faster than the other layout.
                cells = buffer[:, : chunk.size]
                with np.errstate(over="ignore"):
                    np.multiply.outer(self.a, chunk, out=cells)
                    cells += self.b[:, None]
                nonempty = np.flatnonzero(sizes[lo:hi] > 0)
                starts = (sets.offsets[lo:hi] - base)[nonempty]
                # the minimum of the full words, shifted, is the minimum of the top halves
                mins = np.minimum.reduceat(cells, starts, axis=1) >> np.uint64(32)
                out[lo + nonempty] = mins.T.astype(np.uint32)
            lo = hi
        return out


def estimate_jaccard(
    signatures: NDArray[np.uint32], pairs: NDArray[np.int64], *, chunk: int = 1 << 16
) -> NDArray[np.float64]:
    """Share of signature rows on which each pair (i, j) agrees: the MinHash estimate."""
    if pairs.size == 0:
        return np.empty(0, np.float64)
    out = np.empty(pairs.shape[0], np.float64)
    perms = signatures.shape[1]
    for lo in range(0, pairs.shape[0], chunk):
        p = pairs[lo : lo + chunk]
        eq = signatures[p[:, 0]] == signatures[p[:, 1]]
        out[lo : lo + chunk] = eq.sum(axis=1) / perms
    return out


def collision_probability(similarity: float, bands: int, rows: int) -> float:
    """Chance that LSH proposes a pair of Jaccard `similarity`: 1 - (1 - s^rows)^bands."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def _band_keys(signatures: NDArray[np.uint32], band: int, rows: int) -> NDArray[np.uint64]:
    cols = signatures[:, band * rows : (band + 1) * rows].astype(np.uint64)
    key = np.full(signatures.shape[0], np.uint64(band + 1), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in range(rows):
            key = _fmix64(key * _MIX_A + cols[:, c])
    return key


def _pairs_in_groups(
    order: NDArray[np.int64], group_start: NDArray[np.int64], group_size: NDArray[np.int64]
) -> NDArray[np.int64]:
    """All pairs inside each group of `order` (groups are contiguous runs)."""
    sizes = group_size
    if sizes.size == 0:
        return np.empty((0, 2), np.int64)
    # position p in a group of size s starting at g pairs with g+s-1-p later members
    member_group = np.repeat(np.arange(sizes.size), sizes)
    starts = group_start[member_group]
    listed = np.zeros(sizes.size, np.int64)
    listed[1:] = np.cumsum(sizes)[:-1]
    positions = starts + np.arange(int(sizes.sum()), dtype=np.int64) - listed[member_group]
    later = starts + sizes[member_group] - 1 - positions
    total = int(later.sum())
    if total == 0:
        return np.empty((0, 2), np.int64)
    left_pos = np.repeat(positions, later)
    first_of = np.zeros(later.size, np.int64)
    first_of[1:] = np.cumsum(later)[:-1]
    step = np.arange(total, dtype=np.int64) - np.repeat(first_of, later) + 1
    right_pos = left_pos + step
    return np.stack([order[left_pos], order[right_pos]], axis=1)


def candidate_pairs(
    signatures: NDArray[np.uint32],
    *,
    bands: int,
    rows: int,
    max_bucket: int = 64,
    window: int = 8,
) -> NDArray[np.int64]:
    """Unique pairs (i < j) that agree on every row of at least one band.

    A bucket with more than `max_bucket` members (boilerplate shared by many ads, or one
    text posted thousands of times) is not expanded into all its pairs: each member is
    paired with the next `window` members in index order, which keeps the bucket connected
    for clustering at linear cost but may miss some of its pairs.
    """
    n, perms = signatures.shape
    if bands < 1 or rows < 1 or bands * rows > perms:
        raise MinHashError(f"bands x rows must fit in {perms} permutations, got {bands}x{rows}")
    if max_bucket < 2 or window < 1:
        raise MinHashError("max_bucket must be >= 2 and window >= 1")
    empty = np.all(signatures == _EMPTY, axis=1)
    found: list[NDArray[np.int64]] = []
    for band in range(bands):
        key = _band_keys(signatures, band, rows)
        order = np.argsort(key, kind="stable").astype(np.int64)
        order = order[~empty[order]]
        k = key[order]
        if k.size < 2:
            continue
        boundary = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        sizes = np.diff(np.concatenate((boundary, [k.size])))
        multi = sizes >= 2
        small = multi & (sizes <= max_bucket)
        found.append(_pairs_in_groups(order, boundary[small], sizes[small]))
        for g in np.flatnonzero(multi & ~small):
            members = np.sort(order[boundary[g] : boundary[g] + sizes[g]])
            for d in range(1, min(window, members.size - 1) + 1):
                found.append(np.stack([members[:-d], members[d:]], axis=1))
    if not found:
        return np.empty((0, 2), np.int64)
    pairs = np.concatenate(found)
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    code = np.unique(lo * np.int64(n) + hi)
    return np.stack([code // n, code % n], axis=1)
