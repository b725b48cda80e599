"""The benign corpus: what it holds, what it must never hold, and what each edit does."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from haven.media.pdq import pdq_of_pixels
from haven.synth import images as synth

pytest.importorskip("skimage", reason="the sample photos come from scikit-image (demo extra)")

# Kept here independently of synth.EXCLUDED_SAMPLES, so that editing one list is not enough
# to let a photo of a person in. Names are skimage.data functions and bundled file stems.
NEVER_USED = {
    "astronaut",
    "camera",
    "lfw_subset",
    "skin",
    "no_time_for_that_tiny",
    "retina",
    "microaneurysms",
    "immunohistochemistry",
    "ihc",
    "shepp_logan_phantom",
    "phantom",
}


@pytest.fixture(scope="module")
def photos() -> list[tuple[str, Image.Image]]:
    return synth.benign_photos()


@pytest.fixture(scope="module")
def generated() -> list[Image.Image]:
    return [image for _, image in synth.generated_images()]


def test_corpus_is_non_empty_and_has_both_kinds(photos: list[tuple[str, Image.Image]]) -> None:
    names = [name for name, _ in photos]
    assert len(names) == len(set(names)) >= 15
    assert set(synth.SAMPLE_PHOTOS) < set(names)
    assert any(name.startswith("gen_") for name in names)


def test_every_image_is_rgb_or_l_and_good_enough_to_match(
    photos: list[tuple[str, Image.Image]],
) -> None:
    for name, image in photos:
        assert image.mode in {"RGB", "L"}, name
        assert min(image.size) >= 64, name
        assert pdq_of_pixels(np.asarray(image)).quality >= 50, name


def test_no_two_corpus_images_match_each_other(photos: list[tuple[str, Image.Image]]) -> None:
    # Unrelated originals must be far apart, or false-match counts would mean nothing.
    hashes = np.array(
        [np.frombuffer(pdq_of_pixels(np.asarray(im)).hash, np.uint8) for _, im in photos]
    )
    distances = np.unpackbits(hashes[:, None] ^ hashes[None], axis=-1).sum(axis=-1)
    np.fill_diagonal(distances, 256)
    assert distances.min() > 31


def test_no_sample_shows_a_person() -> None:
    used = set(synth.SAMPLE_PHOTOS) | {Path(f).stem for f, _ in synth.SAMPLE_PHOTOS.values()}
    assert not used & NEVER_USED
    assert not used & set(synth.EXCLUDED_SAMPLES)
    assert NEVER_USED - {"ihc", "phantom"} <= set(synth.EXCLUDED_SAMPLES)


def test_samples_are_bundled_with_scikit_image() -> None:
    # No network at test time: every file must ship inside the installed wheel.
    folder = synth._skimage_data_dir()
    for filename, _subject in synth.SAMPLE_PHOTOS.values():
        assert (folder / filename).is_file(), filename


def test_generated_images_are_deterministic() -> None:
    first = synth.generated_images()
    second = synth.generated_images()
    for (name, a), (_, b) in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes(), name


def _same(w: int, h: int) -> tuple[int, int]:
    return w, h


def _crop(fraction: float) -> Callable[[int, int], tuple[int, int]]:
    return lambda w, h: (w - 2 * round(w * fraction), h - 2 * round(h * fraction))


EXPECTED_SIZE: dict[str, Callable[[int, int], tuple[int, int]]] = {
    "jpeg_q30": _same,
    "resize_half": lambda w, h: (w // 2, h // 2),
    "blur": _same,
    "brightness_+30pc": _same,
    "greyscale": _same,
    "crop_1pc": _crop(0.01),
    "crop_2pc": _crop(0.02),
    "crop_5pc": _crop(0.05),
    "rotate_90": lambda w, h: (h, w),
    "rotate_180": _same,
    "rotate_270": lambda w, h: (h, w),
    "flip_horizontal": _same,
    "flip_vertical": _same,
    "letterbox_12pc": lambda w, h: (w, h + 2 * round(0.12 * h)),
    "pillarbox_12pc": lambda w, h: (w + 2 * round(0.12 * w), h),
    "text_banner_10pc": _same,
}


def test_every_edit_is_covered() -> None:
    assert list(EXPECTED_SIZE) == list(synth.EDITS)


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("edit", list(EXPECTED_SIZE))
def test_edit_sizes_and_modes(edit: str, mode: str, generated: list[Image.Image]) -> None:
    original = generated[0].convert(mode)
    before = original.tobytes()
    edited = synth.EDITS[edit](original)
    assert edited.size == EXPECTED_SIZE[edit](*original.size)
    assert edited.mode == ("L" if edit == "greyscale" else mode)
    assert original.tobytes() == before  # the input is never modified
    if (edit, mode) != ("greyscale", "L"):
        assert edited.tobytes() != before  # every edit changes something


def test_rotations_and_flips_are_the_dihedral_group(generated: list[Image.Image]) -> None:
    image = generated[1]
    pixels = np.asarray(image)
    assert np.array_equal(np.asarray(synth.EDITS["rotate_90"](image)), np.rot90(pixels, 1))
    assert np.array_equal(np.asarray(synth.EDITS["rotate_270"](image)), np.rot90(pixels, 3))
    assert np.array_equal(np.asarray(synth.EDITS["flip_horizontal"](image)), pixels[:, ::-1])
    assert np.array_equal(np.asarray(synth.EDITS["flip_vertical"](image)), pixels[::-1])


def test_padding_bars_are_black_and_content_is_untouched(generated: list[Image.Image]) -> None:
    image = generated[0]
    w, h = image.size
    boxed = np.asarray(synth.EDITS["letterbox_12pc"](image))
    bar = round(0.12 * h)
    assert not boxed[:bar].any() and not boxed[-bar:].any()
    assert np.array_equal(boxed[bar:-bar], np.asarray(image))
    pillared = np.asarray(synth.EDITS["pillarbox_12pc"](image))
    bar = round(0.12 * w)
    assert not pillared[:, :bar].any() and not pillared[:, -bar:].any()
    assert np.array_equal(pillared[:, bar:-bar], np.asarray(image))


def test_text_banner_covers_about_a_tenth(generated: list[Image.Image]) -> None:
    image = generated[0]
    changed = np.any(np.asarray(synth.EDITS["text_banner_10pc"](image)) != np.asarray(image), -1)
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.min() == image.height - round(0.10 * image.height)
    assert rows.max() == image.height - 1


@pytest.mark.parametrize(("megapixels", "grain"), [(1.0, 0.0), (0.5, 3.0)])
def test_upscale_to_megapixels(
    megapixels: float, grain: float, generated: list[Image.Image]
) -> None:
    image = generated[2]
    big = synth.upscale_to(image, megapixels, grain=grain)
    assert big.mode == image.mode
    assert abs(big.width * big.height / 1e6 - megapixels) < 0.01
    assert abs(big.width / big.height - image.width / image.height) < 0.01
    again = synth.upscale_to(image, megapixels, grain=grain)
    assert big.tobytes() == again.tobytes()


def test_encode_jpeg_round_trips(generated: list[Image.Image]) -> None:
    image = generated[0]
    data = synth.encode_jpeg(image, quality=90)
    assert data[:2] == b"\xff\xd8"
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == image.size
