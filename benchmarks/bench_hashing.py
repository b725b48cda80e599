"""Hashing speed and drift: Haven's default path vs python-threatexchange vs Haven's reference.

    python -m benchmarks.bench_hashing [--repeats 3] [--grain 6] [--sizes 12,1] [--limit N]

The same JPEG files, in the same run, one thread: benign photos (scikit-image's allow-listed
samples, generated images, and Meta's PDQ reference photos of a bridge and a coaster when
../shared/data is present) upscaled to 12 and 1 megapixels, with a little sensor-like grain,
and encoded at quality 90 as cameras do (cached in benchmarks/.data/, git-ignored).

For each method the time per image is the median over the repeats; the tables give the
median and the mean of that over the files. Drift is the Hamming distance of each method's
hash from the full-resolution hash (Haven's reference path, which equals Meta's C++ PDQ on
Pillow's full RGB decode). Further tables force the JPEG draft decode to 1/2, 1/4 and 1/8
scale with no floor (why the default keeps at least 1000 px on the short side), and try
variants of the fast path, including a prototype that filters the draft the way PDQ filters
the full image (evidence for a suggested change to src/haven/media).

Results go to the console and, as Markdown, to benchmarks/results/hashing.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import importlib.metadata
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pdqhash
from numpy.typing import NDArray
from PIL import Image, features
from rich.console import Console
from rich.table import Table
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

from haven.media.image import DecodeOptions
from haven.media.pdq import HashOptions, hash_image, pdq_of_pixels
from haven.synth import benign_photos, encode_jpeg, upscale_to

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / ".data"
RESULTS = ROOT / "results" / "hashing.md"
REFERENCE_DIR = ROOT.parent.parent / "shared" / "data" / "pdq-reference" / "images"
# Benign reference photos from Meta's PDQ test data: a bridge over a river, a coaster and pen.
REFERENCE_PHOTOS = {"ref_bridge": "modes/original.jpg", "ref_coaster": "misc/c.png"}
JPEG_QUALITY = 90
TARGET_SPEEDUP, TARGET_MEAN_DRIFT, TARGET_MAX_DRIFT = 4.0, 4.0, 10
NO_LIMIT = 1 << 30

Hasher = Callable[[Path], bytes]


def _haven(options: HashOptions) -> Hasher:
    def hasher(path: Path) -> bytes:
        return hash_image(path, options).pdq.hash

    return hasher


def _threatexchange(path: Path) -> bytes:
    return bytes.fromhex(pdq_from_file(path)[0])


# The timed methods. "threatexchange" is the baseline, "haven reference" the truth.
METHODS: dict[str, Hasher] = {
    "haven default": _haven(HashOptions()),
    "haven default+dihedral": _haven(HashOptions(dihedral=True)),
    "threatexchange": _threatexchange,
    "haven reference": _haven(HashOptions.reference()),
}
SUBJECT, BASELINE, TRUTH = "haven default", "threatexchange", "haven reference"


def hamming(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


# --- the files ----------------------------------------------------------------------------


def reference_photos() -> list[tuple[str, Image.Image]]:
    """Meta's benign PDQ reference photos (a bridge, a coaster), when the shared data is here."""
    photos = []
    for name, relative in REFERENCE_PHOTOS.items():
        path = REFERENCE_DIR / relative
        if path.is_file():
            with Image.open(path) as opened:
                photos.append((name, opened.convert("RGB")))
    return photos


def corpus(with_reference: bool = True) -> list[tuple[str, Image.Image]]:
    """The benign corpus used by the benchmarks (all benign: objects, places, patterns)."""
    return [*benign_photos(), *(reference_photos() if with_reference else [])]


def jpeg_files(
    photos: Sequence[tuple[str, Image.Image]], megapixels: float, grain: float, console: Console
) -> list[Path]:
    """Camera-like JPEGs of each photo at `megapixels`, made once and cached.

    The file name carries a digest of the source pixels, so a changed corpus image is
    re-made rather than read stale from the cache.
    """
    folder = DATA_DIR / f"{megapixels:g}mp-q{JPEG_QUALITY}-grain{grain:g}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in photos:
        digest = hashlib.sha256(image.tobytes()).hexdigest()[:10]
        path = folder / f"{name}-{digest}.jpg"
        if not path.is_file():
            console.log(f"making {path.relative_to(ROOT)}")
            # Cameras write colour JPEGs; greyscale samples are stored as colour too.
            big = upscale_to(image.convert("RGB"), megapixels, grain=grain)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(encode_jpeg(big, JPEG_QUALITY))
            tmp.replace(path)
        paths.append(path)
    return paths


def _name(path: Path) -> str:
    return path.stem.rsplit("-", 1)[0]


# --- timing -------------------------------------------------------------------------------


@dataclass
class SizeResult:
    label: str
    files: list[Path]
    ms: dict[str, list[float]] = field(default_factory=dict)  # method -> per-file median ms
    hashes: dict[str, list[bytes]] = field(default_factory=dict)
    fragile: list[int] = field(default_factory=list)

    def drift(self, method: str) -> list[int]:
        return [hamming(a, b) for a, b in zip(self.hashes[method], self.hashes[TRUTH], strict=True)]


def _timed(hasher: Hasher, path: Path) -> tuple[bytes, float]:
    start = time.perf_counter()
    digest = hasher(path)
    return digest, (time.perf_counter() - start) * 1000


def time_methods(label: str, files: list[Path], repeats: int, console: Console) -> SizeResult:
    """Time every method on every file; the method order rotates so none is always first."""
    result = SizeResult(label, files)
    names = list(METHODS)
    samples: dict[str, list[list[float]]] = {n: [[] for _ in files] for n in names}
    result.hashes = {n: [b""] * len(files) for n in names}
    for path in files:  # warm the page cache and the allocator; not timed
        METHODS[SUBJECT](path)
    for repeat in range(repeats):
        for index, path in enumerate(files):
            shift = (repeat + index) % len(names)
            for name in names[shift:] + names[:shift]:
                digest, ms = _timed(METHODS[name], path)
                samples[name][index].append(ms)
                result.hashes[name][index] = digest
        console.log(f"{label}: repeat {repeat + 1}/{repeats} done")
    result.ms = {n: [statistics.median(s) for s in samples[n]] for n in names}
    result.fragile = [fragile_coefficients(path) for path in files]
    return result


def fragile_coefficients(path: Path, margin: float = 0.05) -> int:
    """How many of PDQ's 256 coefficients lie within `margin` MADs of their median.

    A PDQ bit is 1 when its coefficient is above the median; a coefficient that close to
    the median flips under the slightest change of pixels or arithmetic, so this counts the
    bits any two decoders may disagree on. Most photos have 5-15.
    """
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    coefficients, _quality = pdqhash.compute_float(rgb)
    centred = np.abs(coefficients - np.median(coefficients))
    return int((centred < margin * np.median(centred)).sum())


# --- draft scale forced, and variants of the fast path --------------------------------------


@dataclass
class VariantRow:
    label: str
    variant: str
    short_side: float
    ms: float
    drift: list[int]


def _decode_luma(path: Path, divisor: int) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """Luma decoded with the JPEG draft scale forced to 1/divisor; and the full size."""
    with Image.open(path) as image:
        size = image.size
        if divisor > 1:
            # draft() picks the largest DCT scale whose result is at least this size.
            image.draft("L", (size[0] // divisor, size[1] // divisor))
        return np.asarray(image.convert("L")), size


def forced_draft_hash(path: Path, divisor: int) -> tuple[bytes, int]:
    """Haven's fast path with the draft scale forced to 1/divisor and no floor."""
    luma, _size = _decode_luma(path, divisor)
    short = min(luma.shape)
    reduce_by = short // 512
    if reduce_by >= 2:
        luma = np.asarray(Image.fromarray(luma).reduce(reduce_by))
    return pdq_of_pixels(luma).hash, short


def _box_bounds(
    n: int, window: int, centres: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # PDQ's box1DFloat: output o averages inputs [o - (w - half), o + half) clipped to [0, n).
    half = (window + 2) // 2
    return np.maximum(0, centres - (window - half)), np.minimum(n, centres + half)


@functools.lru_cache(maxsize=512)
def pdq_axis_operator(n_full: int, n_draft: int) -> NDArray[np.float32]:
    """64 x n_draft weights: PDQ's two Jarosz box passes and decimation along one axis of
    an image n_full long, applied to a draft decode n_draft long (each full-resolution
    sample taken from the draft sample that covers it)."""
    window = (n_full + 127) // 128  # PDQ's computeJaroszFilterWindowSize(n, 64)
    centres = ((np.arange(64) + 0.5) * n_full / 64).astype(np.int64)  # decimateFloat
    lo1, hi1 = _box_bounds(n_full, window, centres)
    inner = lo1[:, None] + np.arange(window)[None, :]
    valid = inner < hi1[:, None]
    inner = np.where(valid, inner, 0)
    lo2, hi2 = _box_bounds(n_full, window, inner)
    weight = valid / (hi1 - lo1)[:, None] / (hi2 - lo2)
    diff = np.zeros((64, n_full + 1))
    rows = np.broadcast_to(np.arange(64)[:, None], inner.shape)
    np.add.at(diff, (rows, lo2), weight)
    np.add.at(diff, (rows, hi2), -weight)
    full = np.cumsum(diff[:, :-1], axis=1)
    scale = -(-n_full // n_draft)  # the DCT scale: 1, 2, 4 or 8
    padded = np.zeros((64, n_draft * scale))
    padded[:, :n_full] = full
    operator: NDArray[np.float32] = (
        padded.reshape(64, n_draft, scale).sum(axis=2).astype(np.float32)
    )
    return operator


def pdq_geometry_hash(path: Path, divisor: int) -> tuple[bytes, int]:
    """PROTOTYPE of a suggested fast path (not Haven's): draft-decode at 1/divisor, then
    compute the 64x64 image PDQ would compute from the full-resolution image (its own box
    filter sizes and sampling points, mapped onto the draft), and hash that.

    The default path's box shrink changes PDQ's filter geometry, and PDQ's bits are
    sensitive to it; matching the geometry keeps the hash next to the full-resolution one
    even at small draft scales. The 64x64 is stretched to 0-255 before rounding (PDQ bits
    do not change under a positive affine change of luma; only quality does).
    """
    luma, (width, height) = _decode_luma(path, divisor)
    rows, cols = luma.shape
    pixels = luma.astype(np.float32)
    small = pdq_axis_operator(height, rows) @ (pixels @ pdq_axis_operator(width, cols).T)
    low, high = float(small.min()), float(small.max())
    stretched = (small - low) * (255.0 / max(high - low, 1e-6))
    return pdq_of_pixels(np.clip(np.rint(stretched), 0, 255).astype(np.uint8)).hash, min(rows, cols)


def _variant_row(
    result: SizeResult, variant: str, hasher: Callable[[Path], tuple[bytes, int]], repeats: int
) -> VariantRow:
    drift, sides, times = [], [], []
    for path, truth in zip(result.files, result.hashes[TRUTH], strict=True):
        per_file = []
        for _ in range(repeats):
            start = time.perf_counter()
            digest, short = hasher(path)
            per_file.append((time.perf_counter() - start) * 1000)
        times.append(statistics.median(per_file))
        drift.append(hamming(digest, truth))
        sides.append(short)
    return VariantRow(
        result.label, variant, statistics.median(sides), statistics.median(times), drift
    )


def draft_rows(result: SizeResult, repeats: int) -> list[VariantRow]:
    """Drift with the draft scale forced and no floor (then Haven's box shrink and PDQ)."""
    rows = []
    for divisor in (1, 2, 4, 8):
        label = "1/1 (full luma)" if divisor == 1 else f"1/{divisor}"
        hasher = functools.partial(forced_draft_hash, divisor=divisor)
        rows.append(_variant_row(result, label, hasher, repeats))
    return rows


def _haven_variant(options: HashOptions) -> Callable[[Path], tuple[bytes, int]]:
    def hasher(path: Path) -> tuple[bytes, int]:
        return hash_image(path, options).pdq.hash, 0  # 0: decoded size not reported

    return hasher


def variant_rows(result: SizeResult, repeats: int) -> list[VariantRow]:
    """Variants of the fast path: Haven's own options, and the PDQ-geometry prototype."""
    variants: dict[str, Callable[[Path], tuple[bytes, int]]] = {
        "haven default (floor 1000, box shrink to < 1024)": _haven_variant(HashOptions()),
        "floor 1000, no box shrink": _haven_variant(
            HashOptions(decode=DecodeOptions(shrink_short_side=NO_LIMIT))
        ),
        "no draft, box shrink": _haven_variant(
            HashOptions(decode=DecodeOptions(min_decoded_side=NO_LIMIT))
        ),
    }
    for divisor in (2, 4, 8):
        name = f"prototype: draft 1/{divisor} + PDQ-geometry filter"
        variants[name] = functools.partial(pdq_geometry_hash, divisor=divisor)
    return [_variant_row(result, name, hasher, repeats) for name, hasher in variants.items()]


# --- reporting ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # GNU nproc honours OMP_NUM_THREADS, which this benchmark sets to 1: ask without it.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    try:
        nproc = subprocess.run(
            ["nproc"], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    versions = ", ".join(
        f"{p} {importlib.metadata.version(p)}"
        for p in ("pillow", "pdqhash", "threatexchange", "numpy")
    )
    return {
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "packages": f"{versions}, libjpeg-turbo {features.version('libjpeg_turbo')}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "threads": ", ".join(
            f"{k}={os.environ.get(k, 'unset')}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        ),
    }


SPEED_HEAD = [
    "size",
    "method",
    "median ms/image",
    "mean ms/image",
    "speed-up vs TE (median)",
    "speed-up vs TE (mean)",
    "drift mean bits",
    "drift max bits",
]
VARIANT_HEAD = [
    "size",
    "variant",
    "decoded short side",
    "median ms",
    "drift mean",
    "drift p95",
    "drift max",
    "files > 10 bits",
]


def _speed_rows(result: SizeResult) -> list[list[str]]:
    base_median = statistics.median(result.ms[BASELINE])
    base_mean = statistics.fmean(result.ms[BASELINE])
    rows = []
    for name in METHODS:
        median, mean = statistics.median(result.ms[name]), statistics.fmean(result.ms[name])
        drift = result.drift(name)
        rows.append(
            [
                result.label,
                name,
                f"{median:.1f}",
                f"{mean:.1f}",
                f"{base_median / median:.2f}x",
                f"{base_mean / mean:.2f}x",
                f"{statistics.fmean(drift):.2f}",
                str(max(drift)),
            ]
        )
    return rows


def _variant_cells(row: VariantRow) -> list[str]:
    drift = sorted(row.drift)
    p95 = drift[min(len(drift) - 1, math.ceil(0.95 * len(drift)) - 1)]
    return [
        row.label,
        row.variant,
        f"{row.short_side:.0f}" if row.short_side else "-",
        f"{row.ms:.1f}",
        f"{statistics.fmean(drift):.2f}",
        str(p95),
        str(max(drift)),
        f"{sum(d > 10 for d in drift)}/{len(drift)}",
    ]


def verdicts(results: Sequence[SizeResult]) -> list[str]:
    lines = []
    for result in results:
        if not result.label.startswith("12"):
            continue
        speedup = statistics.median(result.ms[BASELINE]) / statistics.median(result.ms[SUBJECT])
        drift = result.drift(SUBJECT)
        mean, worst = statistics.fmean(drift), max(drift)
        verdict = "PASS" if speedup >= TARGET_SPEEDUP else "FAIL"
        lines.append(
            f"{verdict} speed, {result.label}: Haven default is {speedup:.1f}x faster than "
            f"threatexchange (median over files; target >= {TARGET_SPEEDUP:g}x)"
        )
        verdict = "PASS" if mean <= TARGET_MEAN_DRIFT and worst <= TARGET_MAX_DRIFT else "FAIL"
        lines.append(
            f"{verdict} drift, {result.label}: from the full-resolution hash mean {mean:.2f} "
            f"bits (target <= {TARGET_MEAN_DRIFT:g}), max {worst} bits (target <= "
            f"{TARGET_MAX_DRIFT})"
        )
    return lines


def _markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Report:
    results: list[SizeResult]
    drafts: list[VariantRow]
    variants: list[VariantRow]
    argv: list[str]
    grain: float
    repeats: int
    elapsed: float = 0.0

    def per_file_rows(self) -> list[list[str]]:
        rows = []
        for result in self.results:
            drift = result.drift(SUBJECT)
            for index, file in enumerate(result.files):
                rows.append(
                    [
                        result.label,
                        _name(file),
                        f"{file.stat().st_size / 1e6:.2f}",
                        *(f"{result.ms[n][index]:.0f}" for n in METHODS),
                        str(drift[index]),
                        str(result.fragile[index]),
                    ]
                )
        return rows

    def markdown(self, info: dict[str, str]) -> str:
        sizes = ", ".join(
            f"{r.label}: {len(r.files)} files, "
            f"{statistics.fmean(f.stat().st_size for f in r.files) / 1e6:.2f} MB mean"
            for r in self.results
        )
        speed = [row for result in self.results for row in _speed_rows(result)]
        per_file_head = ["size", "file", "MB", *METHODS, "drift", "fragile coeffs"]
        command = " ".join(["python -m benchmarks.bench_hashing", *self.argv])
        return f"""# Hashing speed and drift

Generated by `benchmarks/bench_hashing.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}.

- Command: `cd /work/main && PYTHONPATH=src:. {command}`
- Machine: nproc = {info["nproc"]}, CPU: {info["cpu"]}, Python {info["python"]}; BLAS
  threads: {info["threads"]} (single thread throughout)
- Packages: {info["packages"]}
- Load average at the end: {info["load"]} (a shared machine: medians resist the noise)
- Files: {sizes}. Benign photos (scikit-image's allow-listed samples of objects and
  places, generated patterns, Meta's PDQ reference bridge and coaster) upscaled bicubic
  with Gaussian grain σ = {self.grain:g} levels, saved as colour JPEG quality {JPEG_QUALITY}
  (4:2:0).
- Method: same files, same run; each method on each file {self.repeats} times (order
  rotated) after one untimed warm-up pass; a file's time is the median of its runs, and the
  table gives the median and mean over files. Whole run: {self.elapsed:.0f} s.
- Drift: Hamming distance from the full-resolution hash (`haven reference`: Pillow full RGB
  decode + Meta's C++ PDQ, the same pixels python-threatexchange hashes). TE =
  python-threatexchange `pdq_from_file`.

## Verdict

{chr(10).join("- " + line for line in verdicts(self.results))}

## Speed and drift

{_markdown_table(SPEED_HEAD, speed)}

## Why the decode floor: draft scale forced, no floor

Haven's fast path with `Image.draft` forced to a DCT scale, then the same box shrink (by
`short // 512` when that is 2 or more) and PDQ on luma, against the full-resolution hash.
The default picks the largest scale that keeps the decoded short side >= 1000 px: 1/2 for
these 12 MP files, none (1/1, full luma) for 1 MP.

{_markdown_table(VARIANT_HEAD, [_variant_cells(r) for r in self.drafts])}

## Variants of the fast path

Haven's own `DecodeOptions`, and a prototype (in this benchmark only) that computes, from
the draft decode, the 64x64 image PDQ would compute from the full-resolution image (PDQ's
box sizes and sampling points), then hashes it. Evidence for a suggested change.

{_markdown_table(VARIANT_HEAD, [_variant_cells(r) for r in self.variants])}

## Per file

Median ms per method; `drift`: Haven default's bits from the full-resolution hash;
`fragile coeffs`: how many of the 256 PDQ coefficients lie within 5% of a median absolute
deviation of their median, i.e. bits that flip under the slightest change in pixels or
arithmetic (most photos have 5-15; symmetric or narrow-band images many more).

{_markdown_table(per_file_head, self.per_file_rows())}
"""


def _console_table(title: str, head: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for column in head:
        left = column in {"size", "method", "file", "variant"}
        table.add_column(column, justify="left" if left else "right")
    for row in rows:
        table.add_row(*row)
    return table


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_hashing", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per file and method")
    parser.add_argument("--grain", type=float, default=6.0, help="sensor-like noise σ (levels)")
    parser.add_argument("--sizes", default="12,1", help="megapixels, comma-separated")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    args = parser.parse_args(argv)

    console = Console()
    if not console.is_terminal:
        console.width = 160  # logs and pipes: keep table rows on one line
    started = time.perf_counter()
    photos = corpus()[: args.limit or None]
    report = Report([], [], [], argv, args.grain, args.repeats)
    for megapixels in (float(s) for s in args.sizes.split(",")):
        files = jpeg_files(photos, megapixels, args.grain, console)
        result = time_methods(f"{megapixels:g} MP", files, args.repeats, console)
        report.results.append(result)
        report.drafts += draft_rows(result, args.repeats)
        report.variants += variant_rows(result, args.repeats)
        console.log(f"{result.label}: draft and variant tables done")
    report.elapsed = time.perf_counter() - started

    speed = [row for result in report.results for row in _speed_rows(result)]
    console.print(_console_table("Hashing: ms per image and drift", SPEED_HEAD, speed))
    drafts = [_variant_cells(r) for r in report.drafts]
    console.print(_console_table("Draft scale forced, no floor", VARIANT_HEAD, drafts))
    variants = [_variant_cells(r) for r in report.variants]
    console.print(_console_table("Variants of the fast path", VARIANT_HEAD, variants))
    for line in verdicts(report.results):
        console.print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.markdown(machine()))
    console.print(f"wrote {args.out} ({report.elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
