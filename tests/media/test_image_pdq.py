"""PDQ of images: conformance with Meta's reference, every Pillow mode, bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from haven.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    EmptyFile,
    MediaError,
    NotAnImage,
    TruncatedFile,
)
from haven.media.image import DecodeOptions
from haven.media.pdq import PIPELINE_FAST, PIPELINE_FULL, HashOptions, hash_image, pdq_of_pixels


def distance(a: bytes, b: bytes) -> int:
    xor = bytes(x ^ y for x, y in zip(a, b, strict=True))
    return int(np.unpackbits(np.frombuffer(xor, np.uint8)).sum())


def reference_rows(reference_dir: Path) -> list[dict[str, str]]:
    with open(reference_dir / "expected.csv") as handle:
        return list(csv.DictReader(handle))


def scene(width: int = 640, height: int = 480, seed: int = 3) -> Image.Image:
    """A benign generated scene with structure at several scales (no people)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0) + 40 * np.sin((x + 2 * y) / 91.0)
    rgb = np.stack([base, np.roll(base, 40, axis=1), 255 - base], axis=-1)
    image = Image.fromarray(np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.rectangle(
            [x0, y0, x0 + int(rng.integers(20, 120)), y0 + int(rng.integers(20, 90))], fill=colour
        )
    return image


def encode(image: Image.Image, format: str = "PNG", **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **params)
    return out.getvalue()


# -- conformance with the reference set ----------------------------------------------------


def test_full_decode_reproduces_pdq_cpp_on_pillow(reference_dir: Path) -> None:
    for row in reference_rows(reference_dir):
        result = hash_image(reference_dir / row["path"], HashOptions.reference())
        expected = bytes.fromhex(row["pdq_cpp_on_pillow"])
        assert distance(result.pdq.hash, expected) <= 2, row["path"]
        assert result.pipeline == PIPELINE_FULL


def test_default_fast_path_stays_within_10_bits(reference_dir: Path) -> None:
    for row in reference_rows(reference_dir):
        result = hash_image(reference_dir / row["path"])
        assert result.pipeline == PIPELINE_FAST
        assert distance(result.pdq.hash, bytes.fromhex(row["pdq_cpp_on_pillow"])) <= 10, row["path"]
        assert result.pdq.quality == pytest.approx(int(row["quality"]), abs=10)


def test_each_rotation_and_flip_lies_near_one_dihedral_hash_of_the_original(
    reference_dir: Path,
) -> None:
    folder = reference_dir / "images" / "dihedral"
    original = hash_image(folder / "bridge-1-original.jpg", HashOptions(dihedral=True))
    assert len(original.dihedral) == 8 and original.dihedral[0] == original.pdq.hash
    for path in sorted(folder.glob("bridge-*.jpg")):
        edited = hash_image(path)
        assert min(distance(edited.pdq.hash, h) for h in original.dihedral) <= 10, path.name
        if path.name != "bridge-1-original.jpg":
            assert distance(edited.pdq.hash, original.pdq.hash) > 31, path.name


def test_quality_zero_image_hashes_but_is_refused_for_matching(reference_dir: Path) -> None:
    small = hash_image(reference_dir / "images" / "misc" / "small.jpg")
    assert small.pdq.quality < 50
    assert not small.matchable
    assert small.lookup_hashes() == []
    lenient = hash_image(
        reference_dir / "images" / "misc" / "small.jpg", HashOptions(quality_threshold=0)
    )
    assert lenient.matchable and lenient.lookup_hashes()


def test_every_mode_file_hashes_close_to_the_original(reference_dir: Path) -> None:
    folder = reference_dir / "images" / "modes"
    original = hash_image(folder / "original.jpg").pdq.hash
    for path in sorted(folder.iterdir()):
        result = hash_image(path)
        assert distance(result.pdq.hash, original) <= 16, path.name


# -- modes built in code ------------------------------------------------------------------


# Formats that store each mode, so the file reopens in that mode. HSV is absent: no
# format Pillow writes stores it, so an uploaded file can never open as HSV.
STORED_AS = {
    "1": "PNG",
    "L": "PNG",
    "LA": "PNG",
    "P": "PNG",
    "PA": "TIFF",
    "RGB": "PNG",
    "RGBA": "PNG",
    "CMYK": "JPEG",
    "YCbCr": "TIFF",
    "LAB": "TIFF",
}


@pytest.mark.parametrize("mode", sorted(STORED_AS))
def test_pillow_modes_hash_near_the_rgb_hash(mode: str) -> None:
    image = scene()
    reference = pdq_of_pixels(np.asarray(image)).hash
    converted = image.convert("P").convert("PA") if mode == "PA" else image.convert(mode)
    data = encode(converted, STORED_AS[mode])
    assert Image.open(io.BytesIO(data)).mode == mode
    for options in (HashOptions(), HashOptions.reference()):
        result = hash_image(data, options)
        # Bilevel images keep only the coarse structure; everything else stays close.
        assert distance(result.pdq.hash, reference) <= (48 if mode == "1" else 16), mode


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_high_bit_depth_images_are_scaled_not_clipped(mode: str) -> None:
    grey = scene().convert("L")
    eight_bit = hash_image(encode(grey)).pdq
    samples = np.asarray(grey).astype(np.float64)
    if mode == "I;16":
        image = Image.fromarray((samples * 257).astype(np.uint16))
    elif mode == "I":
        image = Image.fromarray((samples * 257).astype(np.int32))
    else:
        image = Image.fromarray((samples / 255.0).astype(np.float32))
    assert image.mode == mode
    result = hash_image(encode(image, "TIFF")).pdq
    assert distance(result.hash, eight_bit.hash) <= 16
    # A naive conversion clips nearly everything to white and destroys the hash.
    assert result.quality >= 50


def test_exif_orientation_is_applied_and_reported_size_is_upright() -> None:
    image = scene(640, 480)
    upright = hash_image(encode(image.transpose(Image.Transpose.ROTATE_270), "JPEG", quality=95))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    tagged = hash_image(encode(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert (tagged.width, tagged.height) == (480, 640)
    assert distance(tagged.pdq.hash, upright.pdq.hash) <= 10


def test_first_frame_of_an_animation_is_hashed() -> None:
    first, second = scene(seed=1), scene(seed=2)
    out = io.BytesIO()
    first.save(out, format="GIF", save_all=True, append_images=[second], duration=100)
    animated = hash_image(out.getvalue()).pdq.hash
    assert distance(animated, hash_image(encode(first, "GIF")).pdq.hash) <= 4
    assert distance(animated, hash_image(encode(second, "GIF")).pdq.hash) > 31


def test_fast_path_on_a_large_jpeg_drifts_little_from_full_decode() -> None:
    big = scene(2400, 1800).resize((4000, 3000), Image.Resampling.BICUBIC)
    data = encode(big, "JPEG", quality=90)
    fast = hash_image(data).pdq.hash
    full = hash_image(data, HashOptions.reference()).pdq.hash
    assert distance(fast, full) <= 10


# -- letterbox ------------------------------------------------------------------------------


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (40, 40, 40)])
def test_letterboxed_copy_matches_original_through_the_unletterboxed_hash(
    colour: tuple[int, int, int],
) -> None:
    original = scene(640, 400)
    padded = Image.new("RGB", (640, 560), colour)
    padded.paste(original, (0, 80))
    result = hash_image(encode(padded))
    plain = hash_image(encode(original)).pdq.hash
    assert result.unletterboxed is not None
    assert distance(result.unletterboxed.hash, plain) <= 10
    assert distance(result.pdq.hash, plain) > 10  # the uncropped hash is kept, and differs
    assert result.pdq.hash in result.lookup_hashes()


def test_pillarboxed_copy_is_unboxed_too() -> None:
    original = scene(400, 480)
    padded = Image.new("RGB", (640, 480), (0, 0, 0))
    padded.paste(original, (120, 0))
    result = hash_image(encode(padded))
    assert result.unletterboxed is not None
    assert distance(result.unletterboxed.hash, hash_image(encode(original)).pdq.hash) <= 10


def test_image_without_borders_has_no_unletterboxed_hash() -> None:
    assert hash_image(encode(scene())).unletterboxed is None


# -- bad input ------------------------------------------------------------------------------


def test_bad_input_raises_typed_errors(tmp_path: Path) -> None:
    good = encode(scene(), "JPEG", quality=90)
    cases: list[tuple[bytes, type[MediaError]]] = [
        (b"", EmptyFile),
        (b"this is plain text, not an image\n" * 10, NotAnImage),
        (good[: len(good) // 2], TruncatedFile),
        (encode(scene(), "PNG")[:200], TruncatedFile),
    ]
    for data, error in cases:
        with pytest.raises(error) as raised:
            hash_image(data)
        assert str(raised.value)
        path = tmp_path / "upload.bin"
        path.write_bytes(data)
        with pytest.raises(error):
            hash_image(path)


def test_corrupt_png_raises_a_media_error() -> None:
    data = bytearray(encode(scene(), "PNG"))
    data[100:400] = b"\x00" * 300
    with pytest.raises((CorruptMedia, TruncatedFile)):
        hash_image(bytes(data))


def test_decompression_bomb_is_refused_from_the_header_alone() -> None:
    # A 20,000 x 20,000 PNG header: refused before a single pixel is decoded.
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")
    with pytest.raises(DecompressionBomb, match="pixels"):
        hash_image(bomb)
    small_cap = HashOptions(decode=DecodeOptions(max_pixels=1000))
    with pytest.raises(DecompressionBomb):
        hash_image(encode(scene(), "PNG"), small_cap)


def test_errors_are_media_errors_with_stable_codes() -> None:
    assert {EmptyFile.code, NotAnImage.code, TruncatedFile.code, DecompressionBomb.code} == {
        "empty_file",
        "not_media",
        "truncated",
        "decompression_bomb",
    }


def test_picture_with_its_own_dark_edge_is_found_through_the_symmetric_crop() -> None:
    original = scene(640, 400)
    original.paste((0, 0, 0), (0, 0, 640, 24))  # the picture's own black top edge
    padded = Image.new("RGB", (640, 560), (0, 0, 0))
    padded.paste(original, (0, 80))
    result = hash_image(encode(padded))
    plain = hash_image(encode(original)).pdq.hash
    assert result.unletterboxed is not None
    assert distance(result.unletterboxed.hash, plain) > 10  # the top bar ate into the picture
    assert min(distance(h, plain) for h in result.lookup_hashes()) <= 10
