"""Decoding any image Pillow reads into the 8-bit pixels PDQ is computed on.

Two paths share this module. The *full* path decodes every pixel and converts to RGB the
way Meta's reference set was made on Pillow (`pdq_cpp_on_pillow`), so it reproduces those
hashes bit for bit. The *fast* path, the default, asks the JPEG decoder for a DCT-scaled
luma plane (draft mode: no chroma upsampling, no colour conversion), keeps the decoded short
side above a floor because tiny decodes drift, then box-shrinks in integer arithmetic before
PDQ. Its drift from the full path is bounded by the conformance tests and measured in
benchmarks/.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from haven.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    EmptyFile,
    MediaError,
    NotAnImage,
    TruncatedFile,
)

__all__ = ["DecodeOptions", "DecodedImage", "decode_image", "luma_from_high_bit_depth"]

# Pillow modes whose samples are wider than 8 bits and must be scaled, not clipped.
_HIGH_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """How an image is decoded. The defaults are the fast path Haven matches with."""

    fast: bool = True
    # Draft (DCT-scaled) decoding never goes below this short side: below ~1000 px the
    # hash drifts up to 16 bits, and a 160 px decode by 72 bits (measured, see BENCHMARKS).
    min_decoded_side: int = 1000
    # After decoding, the fast path box-shrinks by an integer factor while the short side
    # stays at least this. Shrinking further moves PDQ's own filter windows and sampling
    # points: a 512 px floor drifted 5.4 bits on average and 16 at most on 12 MP photos,
    # 1000 px drifts 1.9 and 8 (benchmarks/results/hashing.md).
    shrink_short_side: int = 1000
    # Decompression-bomb cap, checked from the header before any pixel is decoded.
    max_pixels: int = 120_000_000


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """Pixels ready for PDQ: `pixels` is HxW luma or HxWx3 RGB, uint8.

    `width` and `height` are the image's full size after EXIF orientation, whatever
    resolution was actually decoded.
    """

    pixels: NDArray[np.uint8]
    width: int
    height: int
    mode: str


def luma_from_high_bit_depth(image: Image.Image) -> NDArray[np.uint8]:
    """Scale 16-bit integer and float samples into 0-255 instead of clipping them.

    PDQ's bits do not change under a positive affine change of luma (only quality does), so
    the range is chosen from the data: [0,1] floats, 8-bit and 16-bit ranges are recognised,
    anything else is stretched from its minimum to its maximum.
    """
    samples = np.asarray(image)
    values = samples.astype(np.float32, copy=False)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(samples.shape[:2], dtype=np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if image.mode == "F" and low >= 0.0 and high <= 1.0:
        scale, offset = 255.0, 0.0
    elif low >= 0.0 and high <= 255.0 and image.mode not in {"I;16", "I;16B", "I;16L", "I;16N"}:
        scale, offset = 1.0, 0.0
    elif low >= 0.0 and high <= 65535.0:
        scale, offset = 255.0 / 65535.0, 0.0
    else:
        scale = 255.0 / (high - low) if high > low else 0.0
        offset = -low * scale
    scaled = np.nan_to_num(values, nan=low, posinf=high, neginf=low) * scale + offset
    result: NDArray[np.uint8] = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return result


def _open(source: str | Path | bytes, max_pixels: int) -> Image.Image:
    if isinstance(source, bytes | bytearray):
        if not source:
            raise EmptyFile("the file is empty (0 bytes)")
        stream: str | Path | io.BytesIO = io.BytesIO(source)
    else:
        if Path(source).stat().st_size == 0:
            raise EmptyFile("the file is empty (0 bytes)")
        stream = source
    try:
        with warnings.catch_warnings():
            # Haven applies its own, configurable cap just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except Image.DecompressionBombError as exc:
        raise DecompressionBomb(f"image is too large to decode safely: {exc}") from None
    except UnidentifiedImageError:
        raise NotAnImage("not an image format Haven can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptMedia(f"cannot read the image header: {exc}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"image has an empty size {width}x{height}")
    if width * height > max_pixels:
        image.close()
        raise DecompressionBomb(
            f"image is {width}x{height} = {width * height:,} pixels, over the cap of "
            f"{max_pixels:,} (a decompression bomb or an oversized image)"
        )
    return image


def _lab_to_rgb(image: Image.Image) -> Image.Image:
    """CIE LAB to sRGB through littleCMS: Pillow's plain convert() cannot, and the L band
    alone (lightness, a cube-root scale) drifts ~20 bits from the RGB hash."""
    transform = ImageCms.buildTransformFromOpenProfiles(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )
    converted = ImageCms.applyTransform(image, transform)
    if converted is None:  # only when applied in place, which this call never asks
        raise CorruptMedia("cannot convert the LAB image to RGB")
    return converted


def _to_luma(image: Image.Image) -> NDArray[np.uint8]:
    if image.mode in _HIGH_BIT_MODES:
        return luma_from_high_bit_depth(image)
    if image.mode == "LAB":
        image = _lab_to_rgb(image)
    if image.mode != "L":
        try:
            image = image.convert("L")
        except ValueError:
            image = image.convert("RGB").convert("L")
    return np.asarray(image)


def _to_rgb(image: Image.Image) -> NDArray[np.uint8]:
    if image.mode in _HIGH_BIT_MODES:
        return luma_from_high_bit_depth(image)
    if image.mode == "LAB":
        return np.asarray(_lab_to_rgb(image))
    return np.asarray(image.convert("RGB"))


def _decode_fast(image: Image.Image, options: DecodeOptions) -> NDArray[np.uint8]:
    width, height = image.size
    short = min(width, height)
    if image.format == "JPEG":
        # draft() picks the largest DCT scaling whose result is at least the requested size,
        # and "L" decodes the luma plane alone: no chroma upsampling, no colour conversion.
        factor = min(1.0, options.min_decoded_side / short)
        image.draft("L", (max(1, int(width * factor)), max(1, int(height * factor))))
    image.load()
    luma = _to_luma(ImageOps.exif_transpose(image))
    reduce_by = min(luma.shape) // options.shrink_short_side
    if reduce_by >= 2:
        # Image.reduce is an integer box filter over reduce_by x reduce_by blocks.
        luma = np.asarray(Image.fromarray(luma).reduce(reduce_by))
    return luma


def decode_image(source: str | Path | bytes, options: DecodeOptions | None = None) -> DecodedImage:
    """Decode the first frame of an image file or byte string.

    Raises a `MediaError` subclass for every bad input: empty, not an image, truncated,
    corrupt, or over the pixel cap.
    """
    options = options or DecodeOptions()
    image = _open(source, options.max_pixels)
    try:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        mode = image.mode
        if options.fast:
            pixels = _decode_fast(image, options)
        else:
            image.load()
            pixels = _to_rgb(ImageOps.exif_transpose(image))
    except MediaError:
        raise
    except OSError as exc:
        if "truncated" in str(exc).lower() or "premature end" in str(exc).lower():
            raise TruncatedFile(f"the image data is truncated: {exc}") from None
        raise CorruptMedia(f"the image data is corrupt: {exc}") from None
    except (SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise CorruptMedia(f"the image data is corrupt: {exc}") from None
    finally:
        image.close()
    if pixels.size == 0:
        raise CorruptMedia("the image decoded to no pixels")
    return DecodedImage(pixels=pixels, width=width, height=height, mode=mode)
