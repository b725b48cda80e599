"""Robustness to benign edits, and false matches: Haven's lookups vs python-threatexchange.

    python -m benchmarks.bench_robustness [--limit N]

The bank holds only each ORIGINAL's plain PDQ hash (Haven's default path, or
python-threatexchange's `pdq_from_bytes` for the baseline). Every edit in
`haven.synth.EDITS` is applied to every benign photo; the edited copy is saved losslessly
(PNG: only the edit changes pixels) and hashed:

- Haven: `hash_image(copy, HashOptions(dihedral=True)).lookup_hashes()`, every hash Haven
  looks up (plain, 8 dihedral, and the same again for the image with borders removed);
  nothing when the copy's quality is under 50.
- python-threatexchange: the copy's plain PDQ hash.

A copy is matched when its smallest distance to its original's hash is <= 31 (PDQ's
threshold). False matches: every copy (and every original) against every UNRELATED
original; our copies against the 1,350 hashes of real photos in
../shared/data/pdq-reference/haystack.txt; and all ~910k pairs inside that haystack
(numpy XOR + popcount), whose near-duplicates are shown and explained, not hidden.

Results go to the console and, as Markdown, to benchmarks/results/robustness.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from rich.console import Console
from rich.table import Table
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

from benchmarks.bench_hashing import corpus, hamming, machine
from haven.media.image import decode_image
from haven.media.letterbox import find_content_box
from haven.media.pdq import HashOptions, ImageHash, hash_image, pdq_of_pixels
from haven.synth import EDITS

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "robustness.md"
HAYSTACK = ROOT.parent.parent / "shared" / "data" / "pdq-reference" / "haystack.txt"
THRESHOLD = 31
MUST_MATCH = (
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "flip_horizontal",
    "flip_vertical",
    "letterbox_12pc",
    "pillarbox_12pc",
)
UNEDITED = "(unedited)"


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def as_words(hashes: Sequence[bytes]) -> NDArray[np.uint64]:
    """Hashes as an N x 4 array of big-endian 64-bit words, for XOR + popcount."""
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    return np.frombuffer(b"".join(hashes), dtype=">u8").reshape(-1, 4).astype(np.uint64)


def distances(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> NDArray[np.int64]:
    """All Hamming distances between the rows of a and of b (len(a) x len(b))."""
    xor = a[:, None, :] ^ b[None, :, :]
    counts: NDArray[np.int64] = np.bitwise_count(xor).sum(axis=-1, dtype=np.int64)
    return counts


@dataclass
class Copy:
    """One edited (or unedited) copy of one photo, hashed both ways."""

    photo: int
    edit: str
    size: tuple[int, int]
    quality: int
    haven: list[bytes]  # every lookup hash, plain first; empty when unmatchable
    haven_unletterboxed: bool
    te: bytes
    haven_distance: int = 256
    haven_via: str = ""
    te_distance: int = 256


@dataclass
class Run:
    names: list[str]
    bank_haven: list[bytes]
    bank_te: list[bytes]
    copies: list[Copy] = field(default_factory=list)
    letterbox: list[list[str]] = field(default_factory=list)


def _closest_part(result: ImageHash, target: bytes) -> str:
    """Which of Haven's lookups came closest: plain, dihedral, unletterboxed (+dihedral)."""
    parts = {
        "plain": [result.pdq.hash],
        "dihedral": list(result.dihedral[1:]),
        "unletterboxed": [result.unletterboxed.hash] if result.unletterboxed else [],
        "unletterboxed+dihedral": list(result.unletterboxed_dihedral[1:]),
    }
    best = {
        part: int(distances(as_words(hashes), as_words([target])).min())
        for part, hashes in parts.items()
        if hashes
    }
    return min(best, key=lambda part: best[part])


def build(photos: Sequence[tuple[str, Image.Image]], console: Console) -> Run:
    names = [name for name, _ in photos]
    originals = [png_bytes(image) for _, image in photos]
    run = Run(
        names,
        [hash_image(data).pdq.hash for data in originals],
        [bytes.fromhex(pdq_from_bytes(data)[0]) for data in originals],
    )
    options = HashOptions(dihedral=True)
    for index, (name, image) in enumerate(photos):
        variants = {UNEDITED: image} | {edit: make(image) for edit, make in EDITS.items()}
        for edit, edited in variants.items():
            data = png_bytes(edited)
            result = hash_image(data, options)
            copy = Copy(
                photo=index,
                edit=edit,
                size=edited.size,
                quality=result.pdq.quality,
                haven=result.lookup_hashes(),
                haven_unletterboxed=result.unletterboxed is not None,
                te=bytes.fromhex(pdq_from_bytes(data)[0]),
            )
            if copy.haven:
                found = distances(as_words(copy.haven), as_words([run.bank_haven[index]]))
                copy.haven_distance = int(found.min())
                copy.haven_via = _closest_part(result, run.bank_haven[index])
            copy.te_distance = hamming(copy.te, run.bank_te[index])
            run.copies.append(copy)
            if edit in {"letterbox_12pc", "pillarbox_12pc"}:
                run.letterbox.append(_letterbox_row(name, edit, image, edited, copy))
        console.log(f"{name}: {len(variants)} copies hashed")
    return run


def _letterbox_row(
    name: str, edit: str, image: Image.Image, edited: Image.Image, copy: Copy
) -> list[str]:
    """What Haven's border finder saw on a padded copy, against the bars actually added."""
    width, height = image.size
    bars = (
        (edited.height - height) // 2 if edit.startswith("letter") else 0,
        (edited.width - width) // 2 if edit.startswith("pillar") else 0,
    )
    luma = np.asarray(edited.convert("L"))
    box = find_content_box(luma)
    if box is None:
        found = "none"
    else:
        found = (
            f"top {box.top}, bottom {luma.shape[0] - box.bottom}, "
            f"left {box.left}, right {luma.shape[1] - box.right}"
        )
    expected = f"top/bottom {bars[0]}, left/right {bars[1]}"
    matched = "yes" if copy.haven_distance <= THRESHOLD else "NO"
    return [name, edit, expected, found, str(copy.haven_distance), matched]


# --- analysis -------------------------------------------------------------------------------


def per_edit_rows(run: Run) -> list[list[str]]:
    rows = []
    for edit in [UNEDITED, *EDITS]:
        copies = [c for c in run.copies if c.edit == edit]
        haven = sum(c.haven_distance <= THRESHOLD for c in copies)
        te = sum(c.te_distance <= THRESHOLD for c in copies)
        via = Counter(c.haven_via for c in copies if c.haven_distance <= THRESHOLD)
        other = sum(n for v, n in via.items() if v != "plain")
        gated = sum(not c.haven for c in copies)
        rows.append(
            [
                edit,
                f"{haven}/{len(copies)} ({haven / len(copies):.0%})",
                f"{te}/{len(copies)} ({te / len(copies):.0%})",
                f"{statistics.median(c.haven_distance for c in copies):.0f}",
                f"{statistics.median(c.te_distance for c in copies):.0f}",
                str(other),
                str(gated),
            ]
        )
    return rows


PER_EDIT_HEAD = [
    "edit",
    "Haven matched",
    "TE matched",
    "Haven median distance",
    "TE median distance",
    "Haven matches via non-plain lookup",
    "Haven quality-gated",
]


@dataclass
class FalseMatches:
    pairs: int
    haven: int
    te: int
    haven_closest: int
    te_closest: int


def unrelated(run: Run) -> FalseMatches:
    """Every copy (all its lookups) against every original of a different photo."""
    bank_haven, bank_te = as_words(run.bank_haven), as_words(run.bank_te)
    pairs = haven = te = 0
    haven_closest = te_closest = 256
    for copy in run.copies:
        others = np.array([j != copy.photo for j in range(len(run.names))])
        pairs += int(others.sum())
        if copy.haven:
            best = distances(as_words(copy.haven), bank_haven).min(axis=0)[others]
            haven += int((best <= THRESHOLD).sum())
            haven_closest = min(haven_closest, int(best.min()))
        te_best = distances(as_words([copy.te]), bank_te)[0][others]
        te += int((te_best <= THRESHOLD).sum())
        te_closest = min(te_closest, int(te_best.min()))
    return FalseMatches(pairs, haven, te, haven_closest, te_closest)


def against_haystack(run: Run, haystack: NDArray[np.uint64]) -> FalseMatches:
    """Every copy (all its lookups) against every real photo in the haystack."""
    haven = te = 0
    haven_closest = te_closest = 256
    for copy in run.copies:
        if copy.haven:
            best = distances(as_words(copy.haven), haystack).min(axis=0)
            haven += int((best <= THRESHOLD).sum())
            haven_closest = min(haven_closest, int(best.min()))
        te_best = distances(as_words([copy.te]), haystack)[0]
        te += int((te_best <= THRESHOLD).sum())
        te_closest = min(te_closest, int(te_best.min()))
    return FalseMatches(len(run.copies) * len(haystack), haven, te, haven_closest, te_closest)


@dataclass
class HaystackStats:
    hashes: int
    distinct: int
    pairs: int
    within: int
    histogram: list[tuple[str, int]]
    percentiles: dict[str, int]
    groups: Counter[int]
    in_groups: int
    chains: list[tuple[int, int]]  # runs of consecutive lines each within the threshold
    offsets: list[tuple[int, int]]  # most common line-number offsets among close pairs
    last_close_line: int
    median_close_pairs: int


def haystack_pairs(haystack: NDArray[np.uint64]) -> HaystackStats:
    """All pairs inside the haystack: how many lie within the threshold, and why."""
    n = len(haystack)
    full = distances(haystack, haystack)
    upper = np.triu_indices(n, k=1)
    values = full[upper]
    bins = [(0, 0), (1, 5), (6, 10), (11, 15), (16, 20), (21, 25), (26, 31), (32, 63), (64, 256)]
    histogram = [
        (f"{lo}" if lo == hi else f"{lo}-{hi}", int(((values >= lo) & (values <= hi)).sum()))
        for lo, hi in bins
    ]
    # Connected groups of hashes linked by distances <= 31 (union-find over close pairs).
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = values <= THRESHOLD
    for i, j in zip(upper[0][close], upper[1][close], strict=True):
        parent[root(int(i))] = root(int(j))
    roots = [root(i) for i in range(n)]
    sizes = Counter(Counter(roots).values())
    consecutive = full[np.arange(n - 1), np.arange(1, n)] <= THRESHOLD
    chains, start = [], None
    for line, linked in enumerate([*consecutive.tolist(), False]):
        if linked and start is None:
            start = line
        elif not linked and start is not None:
            chains.append((start + 1, line + 1))  # 1-based first and last line
            start = None
    offsets = Counter((upper[1][close] - upper[0][close]).tolist()).most_common(3)
    close_lines = np.concatenate([upper[0][close], upper[1][close]])
    return HaystackStats(
        hashes=n,
        distinct=len({tuple(row) for row in haystack.tolist()}),
        pairs=len(values),
        within=int(close.sum()),
        histogram=histogram,
        percentiles={f"p{p}": int(np.percentile(values, p)) for p in (0.1, 1, 5, 50)},
        groups=sizes,
        in_groups=sum(size * count for size, count in sizes.items() if size > 1),
        chains=[chain for chain in chains if chain[1] - chain[0] >= 9],
        offsets=offsets,
        last_close_line=int(close_lines.max()) + 1 if close_lines.size else 0,
        median_close_pairs=int(np.median(values[close])) if close.any() else 0,
    )


def load_haystack() -> NDArray[np.uint64]:
    lines = [line.strip() for line in HAYSTACK.read_text().splitlines() if line.strip()]
    return as_words([bytes.fromhex(line) for line in lines])


# --- diagnosis of Haven's misses on the edits it must match ----------------------------------

DIAGNOSIS_HEAD = [
    "photo",
    "edit",
    "Haven distance",
    "pixel-domain dihedral",
    "symmetric-bars crop",
    "bank + original's unletterboxed",
    "original vs original minus 1 column",
]


def _pixels(data: bytes) -> NDArray[np.uint8]:
    return decode_image(data).pixels


def _pdq(pixels: NDArray[np.uint8]) -> bytes:
    return pdq_of_pixels(np.ascontiguousarray(pixels)).hash


def _dihedral_in_pixels(pixels: NDArray[np.uint8]) -> list[NDArray[np.uint8]]:
    """The 8 rotations and flips of the pixels themselves (not of PDQ's DCT)."""
    turns = [np.rot90(pixels, k) for k in range(4)]
    return [*turns, *(np.swapaxes(t, 0, 1) for t in turns)]


def _symmetric_crop(pixels: NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    """Crop equal bars from opposite sides (the smaller of the two found), as padding adds."""
    luma = pixels if pixels.ndim == 2 else np.asarray(Image.fromarray(pixels).convert("L"))
    box = find_content_box(luma)
    if box is None:
        return None
    height, width = luma.shape
    vertical = min(box.top, height - box.bottom)
    horizontal = min(box.left, width - box.right)
    return pixels[vertical : height - vertical, horizontal : width - horizontal]


def diagnose(run: Run, photos: Sequence[tuple[str, Image.Image]]) -> list[list[str]]:
    """Why Haven missed a must-match copy, and what would have matched it.

    - pixel-domain dihedral: the copy's decoded pixels rotated and flipped, each hashed,
      against the original's plain hash (Haven today uses PDQ's DCT-domain dihedral hashes,
      which are exact only if PDQ's downsampling were symmetric: it is not, and on fine
      textures its aliasing makes them far apart).
    - symmetric-bars crop: the copy with equal bars removed from opposite sides.
    - bank + original's unletterboxed: the bank also holding the original's own
      unletterboxed hash, when the original has dark edges of its own.
    - original minus 1 column: how far PDQ moves when the original loses one pixel column
      (its sensitivity to sampling geometry on this image).
    """
    rows = []
    by_photo = dict(enumerate(photos))
    for copy in run.copies:
        if copy.edit not in MUST_MATCH or copy.haven_distance <= THRESHOLD:
            continue
        name, image = by_photo[copy.photo]
        bank = run.bank_haven[copy.photo]
        original = _pixels(png_bytes(image))
        edited = _pixels(png_bytes(EDITS[copy.edit](image)))
        padded = copy.edit in {"letterbox_12pc", "pillarbox_12pc"}
        pixel_dihedral = symmetric = "-"  # each probe only where it applies
        if not padded:
            best = min(hamming(_pdq(p), bank) for p in _dihedral_in_pixels(edited))
            pixel_dihedral = str(best)
        else:
            cropped = _symmetric_crop(edited)
            symmetric = "-" if cropped is None else str(hamming(_pdq(cropped), bank))
        own = hash_image(png_bytes(image), HashOptions(dihedral=True))
        bank_both = [bank] + ([own.unletterboxed.hash] if own.unletterboxed else [])
        both = min(hamming(h, b) for h in copy.haven for b in bank_both) if copy.haven else 256
        rows.append(
            [
                name,
                copy.edit,
                str(copy.haven_distance),
                pixel_dihedral,
                symmetric,
                str(both),
                str(hamming(_pdq(original[:, :-1]), bank)),
            ]
        )
    return rows


# --- reporting ------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdicts(run: Run, fm: FalseMatches, hay: FalseMatches) -> list[str]:
    lines = []
    for edit in MUST_MATCH:
        copies = [c for c in run.copies if c.edit == edit]
        missed = [run.names[c.photo] for c in copies if c.haven_distance > THRESHOLD]
        verdict = "PASS" if not missed else "FAIL"
        detail = f" (missed: {', '.join(missed)})" if missed else ""
        lines.append(
            f"{verdict} {edit}: Haven matched {len(copies) - len(missed)}/{len(copies)}{detail}"
        )
    verdict = "PASS" if fm.haven == 0 and hay.haven == 0 else "FAIL"
    lines.append(
        f"{verdict} false matches: Haven {fm.haven} among {fm.pairs:,} copy x unrelated-original "
        f"pairs, {hay.haven} among {hay.pairs:,} copy x haystack pairs"
    )
    return lines


def misses(run: Run) -> list[list[str]]:
    """Every copy Haven missed (python-threatexchange's distance alongside)."""
    rows = []
    for c in run.copies:
        if c.haven_distance > THRESHOLD:
            rows.append(
                [
                    run.names[c.photo],
                    c.edit,
                    str(c.quality),
                    str(c.haven_distance) if c.haven else "gated",
                    str(c.te_distance),
                    "yes" if c.haven_unletterboxed else "no",
                ]
            )
    return rows


def markdown(
    run: Run,
    diagnosis: list[list[str]],
    fm: FalseMatches,
    hay: FalseMatches,
    stats: HaystackStats | None,
    argv: Sequence[str],
    elapsed: float,
) -> str:
    info = machine()
    command = " ".join(["python -m benchmarks.bench_robustness", *argv])
    false_rows = [
        [
            "copies x unrelated originals",
            f"{fm.pairs:,}",
            str(fm.haven),
            str(fm.te),
            str(fm.haven_closest),
            str(fm.te_closest),
        ],
        [
            "copies x haystack (1,350 real photos)",
            f"{hay.pairs:,}",
            str(hay.haven),
            str(hay.te),
            str(hay.haven_closest),
            str(hay.te_closest),
        ],
    ]
    false_table = _table(
        ["pairs", "count", "Haven false", "TE false", "Haven closest", "TE closest"], false_rows
    )
    letterbox_table = _table(
        ["photo", "edit", "bars added (px)", "borders found (px)", "Haven distance", "matched"],
        run.letterbox,
    )
    misses_table = _table(
        ["photo", "edit", "quality", "Haven distance", "TE distance", "borders found"],
        misses(run),
    )
    diagnosis_table = _table(DIAGNOSIS_HEAD, diagnosis)
    haystack_text = "haystack.txt not found"
    if stats is not None:
        groups = ", ".join(
            f"{count} of size {size}" for size, count in sorted(stats.groups.items()) if size > 1
        )
        percentiles = ", ".join(f"{k} = {v}" for k, v in stats.percentiles.items())
        chains = (
            "chains of consecutive lines within the threshold: "
            + ", ".join(f"lines {a}-{b}" for a, b in stats.chains)
            if stats.chains
            else "no long chains of consecutive lines"
        )
        offsets = ", ".join(f"{offset}: {count}" for offset, count in stats.offsets)
        haystack_text = f"""{stats.hashes:,} hashes ({stats.distinct:,} distinct),
{stats.pairs:,} pairs (plain hash against plain hash: the haystack holds hashes, not
pixels, so Haven's extra lookups cannot be made for it, and Haven and
python-threatexchange count the same here).

- Pairs within {THRESHOLD}: **{stats.within:,}** ({stats.within / stats.pairs:.3%} of pairs).
- Percentiles of all pair distances: {percentiles}.
- Linking hashes within {THRESHOLD} gives groups: {groups}; {stats.in_groups} of the
  {stats.hashes:,} hashes are in a group, the rest have no neighbour within {THRESHOLD}.
- Structure: {chains}; the most common line offsets between
  close pairs are {offsets} (offset: pairs). No line after line {stats.last_close_line}
  has a neighbour within {THRESHOLD}. Median distance of the close pairs:
  {stats.median_close_pairs} bits.

What they are: PROVENANCE.md describes the file as PDQ hashes of real photos used
upstream to test multi-index hashing, i.e. a search benchmark that needs true near
neighbours to find. The close pairs are not scattered at random as chance collisions
would be (two unrelated PDQ hashes sit around 128 ± 8 bits apart, so 31 is ~12 standard
deviations away): they sit in chains of consecutive lines, each a few bits from the last
(a photo drifting through small successive changes), and at fixed line offsets (the same
photos hashed again in a later block with variations). We read them as the set's intended
near-duplicates of one photo, not false matches between unrelated images; without the
pixels this cannot be proven, so they are reported, not filtered. The distribution has no
gap at the threshold ({stats.histogram[-2][1]:,} pairs at 32-63 bits): variants drift
past 31 as well, which is why PDQ's 31 is a recall/precision trade-off, not a cliff.

{_table(["distance", "pairs"], [[k, f"{v:,}"] for k, v in stats.histogram])}"""
    return f"""# Robustness to benign edits, and false matches

Generated by `benchmarks/bench_robustness.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}.

- Command: `cd /work/main && PYTHONPATH=src:. {command}`
- Machine: nproc = {info["nproc"]}, CPU: {info["cpu"]}, Python {info["python"]};
  {info["packages"]}. Whole run: {elapsed:.0f} s.
- Corpus: {len(run.names)} benign photos ({", ".join(run.names)}), each with
  {len(EDITS)} edits ({len(run.copies)} copies with the unedited ones), saved as PNG.
- Bank: each original's plain PDQ hash only. Haven looks up every hash in
  `lookup_hashes()` of `hash_image(copy, HashOptions(dihedral=True))`;
  python-threatexchange (TE) its plain `pdq_from_bytes` hash. Matched: distance <= {THRESHOLD}.

## Verdict

{chr(10).join("- " + line for line in verdicts(run, fm, hay))}

## Matches per edit

{_table(PER_EDIT_HEAD, per_edit_rows(run))}

## False matches

{false_table}

## Inside the haystack

{haystack_text}

## Letterbox and pillarbox detection (Haven's `find_content_box` on the padded copy)

{letterbox_table}

## Diagnosis: Haven's misses among the edits it must match

Distances to the original's plain hash (<= {THRESHOLD} matches). `pixel-domain dihedral`:
the copy's pixels rotated/flipped back and hashed (instead of PDQ's DCT-domain dihedral
hashes); `symmetric-bars crop`: equal bars removed from opposite sides; `bank +
original's unletterboxed`: the bank also holding the original's own unletterboxed hash;
last column: how far PDQ moves when the original loses one pixel column.

{diagnosis_table}

## Copies Haven missed (all edits)

{misses_table}
"""


def _console_table(title: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=title)
    for column in head:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_robustness",
        description=(__doc__ or "").split("\n")[0],
    )
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    args = parser.parse_args(argv)

    console = Console()
    if not console.is_terminal:
        console.width = 160
    started = time.perf_counter()
    photos = corpus()[: args.limit or None]
    run = build(photos, console)
    diagnosis = diagnose(run, photos)
    fm = unrelated(run)
    haystack = load_haystack() if HAYSTACK.is_file() else as_words([])
    hay = against_haystack(run, haystack)
    stats = haystack_pairs(haystack) if len(haystack) else None
    elapsed = time.perf_counter() - started

    console.print(_console_table("Matches per edit", PER_EDIT_HEAD, per_edit_rows(run)))
    if stats is not None:
        console.print(
            f"haystack: {stats.within:,} of {stats.pairs:,} pairs within {THRESHOLD}; "
            f"histogram {stats.histogram}; groups {dict(stats.groups)}"
        )
    console.print(
        _console_table("Diagnosis of Haven's must-match misses", DIAGNOSIS_HEAD, diagnosis)
    )
    for line in verdicts(run, fm, hay):
        console.print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(run, diagnosis, fm, hay, stats, argv, elapsed))
    console.print(f"wrote {args.out} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
