"""PDQ hashes of images: the default fast path, the reference path, dihedral and unletterboxed.

Meta's C++ PDQ core (the pdqhash package) does the hashing; this module decides what pixels
it sees. Every result names its pipeline, because hashes are comparable only when made the
same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pdqhash
from numpy.typing import NDArray

from haven.media.image import DecodeOptions, decode_image
from haven.media.letterbox import ContentBox, find_content_box
from haven.media.pdq_views import dihedral_lookup_hashes

__all__ = [
    "DEFAULT_QUALITY_THRESHOLD",
    "DIHEDRAL_NAMES",
    "PIPELINE_FAST",
    "PIPELINE_FULL",
    "HashOptions",
    "ImageHash",
    "PdqHash",
    "hash_image",
    "pdq_dihedral_of_pixels",
    "pdq_of_pixels",
]

PIPELINE_FULL = "pdq:pillow-full-rgb:v1"
PIPELINE_FAST = "pdq:pillow-draft-luma-floor1000-box1000:v2"
DEFAULT_QUALITY_THRESHOLD = 50
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)


@dataclass(frozen=True, slots=True)
class HashOptions:
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    dihedral: bool = False
    unletterbox: bool = True
    # Hashes under this quality are returned but not matched (python-threatexchange: 50).
    quality_threshold: int = DEFAULT_QUALITY_THRESHOLD

    @classmethod
    def reference(cls) -> HashOptions:
        """Full decode to RGB: reproduces Meta's C++ PDQ on Pillow exactly."""
        return cls(decode=DecodeOptions(fast=False))

    @property
    def pipeline(self) -> str:
        return PIPELINE_FAST if self.decode.fast else PIPELINE_FULL


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash (32 bytes, most significant bit first) and its quality 0-100."""

    hash: bytes
    quality: int

    @property
    def hex(self) -> str:
        return self.hash.hex()


@dataclass(frozen=True, slots=True)
class ImageHash:
    """Everything Haven derives from one image for matching.

    `unletterboxed` is the hash with uniform borders removed, present only when borders
    were found; the hash of the uncropped image is always `pdq`. `unletterboxed_variants`
    holds the crop with equal bars on opposite sides when that differs. `dihedral` holds the
    8 rotations and flips (original first, in `DIHEDRAL_NAMES` order) when asked for, and
    `unletterboxed_dihedral` the same for each crop, 8 per crop.
    """

    pdq: PdqHash
    width: int
    height: int
    pipeline: str
    matchable: bool
    dihedral: tuple[bytes, ...] = ()
    unletterboxed: PdqHash | None = None
    unletterboxed_variants: tuple[bytes, ...] = ()
    unletterboxed_dihedral: tuple[bytes, ...] = ()

    def lookup_hashes(self) -> list[bytes]:
        """Every distinct hash to look up, the plain hash first; empty if not matchable."""
        if not self.matchable:
            return []
        candidates = [self.pdq.hash, *self.dihedral]
        if self.unletterboxed is not None:
            candidates += [
                self.unletterboxed.hash,
                *self.unletterboxed_variants,
                *self.unletterboxed_dihedral,
            ]
        return list(dict.fromkeys(candidates))


def _bits_to_bytes(bits: NDArray[np.integer]) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def _as_rgb(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if pixels.ndim == 2:
        # A read-only view: pdqhash weighs the three equal channels back to the same luma.
        return np.broadcast_to(pixels[..., None], (*pixels.shape, 3))
    return pixels


def pdq_of_pixels(pixels: NDArray[np.uint8]) -> PdqHash:
    """PDQ of a uint8 HxW luma or HxWx3 RGB array."""
    bits, quality = pdqhash.compute(_as_rgb(pixels))
    return PdqHash(_bits_to_bytes(bits), int(quality))


def pdq_dihedral_of_pixels(pixels: NDArray[np.uint8]) -> tuple[tuple[bytes, ...], int]:
    """The 8 dihedral PDQ hashes (original first) and the original's quality.

    Each is the hash of the rotated or flipped pixels, not pdqhash's `compute_dihedral`,
    which transforms the DCT instead: PDQ's downsampling is not symmetric, so on fine
    textures those hashes land 32-102 bits from the hash of a really rotated copy (measured
    on brick, grass, gravel and page photos), while rotating the pixels back gives 0.

    The original's hash is pdqhash's own (it is what is stored, reported and exchanged).
    The seven other views exist only to be looked up: `pdq_views` computes them from PDQ's
    own 64x64 grids of the rotated pixels, equal to pdqhash's on them, at a fraction of
    the cost (a 1-megapixel upload's hashing went from eight full hashes to about one).
    """
    first = pdq_of_pixels(np.ascontiguousarray(pixels))
    rest = dihedral_lookup_hashes(pixels)[1:]
    return (first.hash, *rest), first.quality


def _luma_of(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if pixels.ndim == 2:
        return pixels
    weights = np.array([299, 587, 114], dtype=np.uint32)
    return ((pixels @ weights + 500) // 1000).astype(np.uint8)


def _find_borders(pixels: NDArray[np.uint8]) -> ContentBox | None:
    """Borders found on a subsampled plane (a 12 MP full decode would take ~0.2 s), with
    the box scaled back, rounded inwards so no bar survives the crop."""
    step = max(1, min(pixels.shape[:2]) // 512)
    small = find_content_box(_luma_of(np.ascontiguousarray(pixels[::step, ::step])))
    if small is None or step == 1:
        return small
    height, width = pixels.shape[:2]
    return ContentBox(
        top=min(height, small.top * step + step - 1) if small.top else 0,
        bottom=max(0, small.bottom * step - step + 1)
        if small.bottom < -(-height // step)
        else height,
        left=min(width, small.left * step + step - 1) if small.left else 0,
        right=max(0, small.right * step - step + 1) if small.right < -(-width // step) else width,
    )


def hash_image(source: str | Path | bytes, options: HashOptions | None = None) -> ImageHash:
    """Hash an image file or byte string; raises `MediaError` for bad input."""
    options = options or HashOptions()
    decoded = decode_image(source, options.decode)
    pixels = decoded.pixels
    if options.dihedral:
        dihedral, quality = pdq_dihedral_of_pixels(pixels)
        plain = PdqHash(dihedral[0], quality)
    else:
        dihedral, plain = (), pdq_of_pixels(pixels)
    result = ImageHash(
        pdq=plain,
        width=decoded.width,
        height=decoded.height,
        pipeline=options.pipeline,
        matchable=plain.quality >= options.quality_threshold,
        dihedral=dihedral,
    )
    if not options.unletterbox:
        return result
    box = _find_borders(pixels)
    if box is None:
        return result
    height, width = pixels.shape[:2]
    crops = [box, *filter(None, [box.symmetric(height, width)])]
    hashes: list[PdqHash] = []
    dihedrals: list[bytes] = []
    for crop in crops:
        cropped = np.ascontiguousarray(crop.crop(pixels))
        if options.dihedral:
            views, quality = pdq_dihedral_of_pixels(cropped)
            hashes.append(PdqHash(views[0], quality))
            dihedrals += views
        else:
            hashes.append(pdq_of_pixels(cropped))
    return replace(
        result,
        unletterboxed=hashes[0],
        unletterboxed_variants=tuple(h.hash for h in hashes[1:]),
        unletterboxed_dihedral=tuple(dihedrals),
    )
