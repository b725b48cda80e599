"""A benign image corpus and the edits re-uploaded copies go through.

Every image here is benign, and synthetic or a public sample photo of an object or a place:
Haven proves its matching on such stand-ins exactly as real hash lists would be used, and
never holds real abusive material (DESIGN.md, hard rules). No image here depicts a person
or a human body: scikit-image's sample photos are taken from an allow-list
(`SAMPLE_PHOTOS`), and the samples that show people or human tissue are listed, with the
reason, in `EXCLUDED_SAMPLES` so that nobody adds them back by accident.

The sample photos are the files scikit-image ships inside its wheel (no download: pooch
and network access are not needed). The generated images are deterministic, so tests and
benchmarks see the same pixels on every machine.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

__all__ = [
    "EDITS",
    "EXCLUDED_SAMPLES",
    "SAMPLE_PHOTOS",
    "Edit",
    "benign_photos",
    "encode_jpeg",
    "generated_images",
    "sample_photos",
    "upscale_to",
]

Edit = Callable[[Image.Image], Image.Image]
"""A benign edit: takes an RGB or L image and returns a new image, the input untouched."""

# name -> (file inside skimage/data, what the photo shows). Objects and places only; all
# ship in the scikit-image wheel (checked with 0.26; a test fails if a wheel stops).
SAMPLE_PHOTOS: dict[str, tuple[str, str]] = {
    "coffee": ("coffee.png", "a cup of coffee on a saucer (colour photo)"),
    "chelsea": ("chelsea.png", "Chelsea the cat's face (colour photo)"),
    "rocket": ("rocket.jpg", "a rocket on its launch pad at dusk (colour photo)"),
    "coins": ("coins.png", "ancient Greek coins (greyscale photo)"),
    "moon": ("moon.png", "the surface of the moon (greyscale photo)"),
    "horse": ("horse.png", "the silhouette of a horse (binary drawing)"),
    "page": ("page.png", "a scanned page of printed text (greyscale)"),
    "text": ("text.png", "handwritten text and symbols (greyscale photo)"),
    "brick": ("brick.png", "a brick wall (greyscale texture photo)"),
    "grass": ("grass.png", "grass (greyscale texture photo)"),
    "gravel": ("gravel.png", "gravel (greyscale texture photo)"),
    "hubble_deep_field": ("hubble_deep_field.jpg", "the Hubble deep field (colour)"),
    "logo": ("logo.png", "the scikit-image logo, a snake (colour drawing)"),
    "colorwheel": ("color.png", "a colour wheel (colour chart)"),
}

# skimage.data names deliberately never used, and why. Kept here (and, independently, in
# the tests) so the rule survives edits: no people, no human bodies, not even in tests.
EXCLUDED_SAMPLES: dict[str, str] = {
    "astronaut": "a photo of a person",
    "camera": "the cameraman: a photo of a person",
    "lfw_subset": "faces of people (Labeled Faces in the Wild)",
    "skin": "a microscopy image of human skin",
    "no_time_for_that_tiny": "an animated GIF of a person",
    "retina": "a photo of a human eye's fundus",
    "microaneurysms": "a crop of a human retina",
    "immunohistochemistry": "human tissue under a microscope",
    "shepp_logan_phantom": "a model of a human head scan",
    "brain": "a scan of a human brain",
    "kidney": "human kidney tissue",
    "cells3d": "cells under a microscope",
    "clock": "benign, but its PDQ quality (34) is under the matching gate of 50",
}


def _skimage_data_dir() -> Path:
    """The folder of sample files inside the installed scikit-image, without importing it.

    Importing scikit-image is slow and its fetchers may reach for the network; reading the
    bundled files directly needs neither.
    """
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the demo corpus needs scikit-image's sample photos: pip install 'haven[demo]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _flatten(image: Image.Image, mode: str) -> Image.Image:
    """Drop transparency onto white (how a viewer shows it) and convert to `mode`."""
    if image.mode in {"RGBA", "LA", "P", "PA"}:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert(mode)


def sample_photos() -> list[tuple[str, Image.Image]]:
    """scikit-image's allow-listed sample photos of objects and places, as RGB or L.

    Benign public sample images (see `SAMPLE_PHOTOS` for what each one shows); colour
    photos come back RGB, greyscale ones L, as they are stored.
    """
    folder = _skimage_data_dir()
    photos: list[tuple[str, Image.Image]] = []
    for name, (filename, _subject) in SAMPLE_PHOTOS.items():
        path = folder / filename
        if not path.is_file():
            raise FileNotFoundError(
                f"scikit-image sample {filename} is missing from {folder}: this scikit-image "
                "wheel does not bundle it"
            )
        with Image.open(path) as opened:
            opened.load()
            grey = opened.mode in {"L", "LA", "1", "I;16"} or name == "horse"
            photos.append((name, _flatten(opened, "L" if grey else "RGB")))
    return photos


# --- generated images --------------------------------------------------------------------
# Deterministic, synthetic and benign: gradients, shapes and structured noise. Each has
# strong large-scale structure, which is what gives a PDQ hash its quality.

_SIZE = (640, 480)


def _palette(t: NDArray[np.float32], phase: tuple[float, float, float]) -> Image.Image:
    """Map values in [0, 1] to RGB with a cosine palette (smooth, colourful, invertible)."""
    channels = [0.5 + 0.5 * np.cos(2 * np.pi * (t + p)) for p in phase]
    rgb = np.stack(channels, axis=-1)
    return Image.fromarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _grid() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    width, height = _SIZE
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs / width, ys / height


def _value_noise(rng: np.random.Generator, octaves: int, base: int) -> NDArray[np.float32]:
    """Fractal value noise in [0, 1]: random grids upsampled smoothly, summed over octaves."""
    width, height = _SIZE
    total = np.zeros((height, width), dtype=np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.random((cells * 3 // 4 + 1, cells + 1), dtype=np.float32)
        layer = Image.fromarray(grid, "F").resize(_SIZE, Image.Resampling.BICUBIC)
        weight = 0.55**octave
        total += weight * np.asarray(layer, dtype=np.float32)
        weight_sum += weight
    total /= weight_sum
    low, high = float(total.min()), float(total.max())
    return (total - low) / max(high - low, 1e-6)


def _gradient_shapes(rng: np.random.Generator) -> Image.Image:
    """A diagonal colour gradient with random ellipses, rectangles and triangles on it."""
    xs, ys = _grid()
    image = _palette(0.6 * xs + 0.4 * ys, (0.0, 0.15, 0.35))
    draw = ImageDraw.Draw(image)
    width, height = _SIZE
    for index in range(14):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        w, h = int(rng.integers(40, 220)), int(rng.integers(40, 180))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = (x0, y0, min(width, x0 + w), min(height, y0 + h))
        if index % 3 == 0:
            draw.ellipse(box, fill=colour)
        elif index % 3 == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(box[0], box[3]), ((box[0] + box[2]) // 2, box[1]), box[2:]], colour)
    return image


def _clouds(rng: np.random.Generator) -> Image.Image:
    """Coloured fractal noise, like clouds or marble: structured at every scale."""
    return _palette(_value_noise(rng, octaves=6, base=3), (0.1, 0.3, 0.6))


def _rings(rng: np.random.Generator) -> Image.Image:
    """Two sets of off-centre concentric rings interfering, over a soft gradient."""
    xs, ys = _grid()
    (cx1, cy1), (cx2, cy2) = rng.uniform(0.1, 0.9, (2, 2))
    r1 = np.hypot(xs - cx1, (ys - cy1) * 0.75)
    r2 = np.hypot(xs - cx2, (ys - cy2) * 0.75)
    waves = np.sin(2 * np.pi * 9 * r1) + 0.7 * np.sin(2 * np.pi * 5 * r2 + 1.0)
    t = 0.25 * waves / 1.7 + 0.5 * xs
    return _palette(t.astype(np.float32), (0.55, 0.25, 0.0))


def _voronoi(rng: np.random.Generator) -> Image.Image:
    """A mosaic of Voronoi cells, each a flat random colour, shaded by distance."""
    width, height = _SIZE
    seeds = rng.uniform((0, 0), (width, height), (36, 2)).astype(np.float32)
    colours = rng.integers(30, 256, (len(seeds), 3)).astype(np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dist = (xs[..., None] - seeds[:, 0]) ** 2 + (ys[..., None] - seeds[:, 1]) ** 2
    nearest = dist.argmin(axis=-1)
    shade = 1.0 - 0.5 * np.sqrt(dist.min(axis=-1)) / 120.0
    rgb = colours[nearest] * np.clip(shade, 0.3, 1.0)[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def _mondrian(rng: np.random.Generator) -> Image.Image:
    """Rectangles split at random and painted in primary colours, with black lines."""
    width, height = _SIZE
    image = Image.new("RGB", _SIZE, "white")
    draw = ImageDraw.Draw(image)
    colours = [(220, 30, 30), (30, 60, 200), (240, 210, 30), (245, 245, 240), (20, 20, 20)]
    boxes = [(0, 0, width, height)]
    for _ in range(11):
        boxes.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        x0, y0, x1, y1 = boxes.pop()
        if x1 - x0 >= y1 - y0:
            cut = int(rng.integers(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))
            boxes += [(x0, y0, cut, y1), (cut, y0, x1, y1)]
        else:
            cut = int(rng.integers(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4))
            boxes += [(x0, y0, x1, cut), (x0, cut, x1, y1)]
    for box in boxes:
        colour = colours[int(rng.integers(0, len(colours)))]
        draw.rectangle(box, fill=colour, outline=(0, 0, 0), width=8)
    return image


def _waves(rng: np.random.Generator) -> Image.Image:
    """Plane waves at random angles summed in greyscale, amplitude falling as 1/frequency.

    Broadband like a photo: a few pure waves would leave most of PDQ's 256 coefficients near
    their median, where bits flip under the slightest change.
    """
    xs, ys = _grid()
    total = np.zeros_like(xs)
    for _ in range(24):
        angle = rng.uniform(0, np.pi)
        frequency = float(np.exp(rng.uniform(0.0, np.log(16.0))))
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * frequency * (xs * np.cos(angle) + ys * np.sin(angle)) + phase)
        total += wave / frequency
    total += 1.5 * (xs - ys)
    low, high = float(total.min()), float(total.max())
    grey = (total - low) / (high - low) * 255
    return Image.fromarray(grey.astype(np.uint8), "L")


_GENERATORS: dict[str, tuple[int, Callable[[np.random.Generator], Image.Image]]] = {
    "gen_gradient_shapes": (101, _gradient_shapes),
    "gen_clouds": (202, _clouds),
    "gen_rings": (303, _rings),
    "gen_voronoi": (404, _voronoi),
    "gen_mondrian": (505, _mondrian),
    "gen_waves": (606, _waves),
}


def generated_images() -> list[tuple[str, Image.Image]]:
    """Synthetic, benign images made in code (640x480): the same pixels on every run."""
    return [(name, make(np.random.default_rng(seed))) for name, (seed, make) in _GENERATORS.items()]


def benign_photos() -> list[tuple[str, Image.Image]]:
    """The benign corpus: allow-listed sample photos, then generated images.

    Every image is benign (objects, places, textures, drawings and synthetic patterns; no
    people), RGB or L, and has a PDQ quality of at least 50, so each can stand in for a
    listed image in demos, tests and benchmarks. Raises ModuleNotFoundError without
    scikit-image (the `demo` extra).
    """
    return [*sample_photos(), *generated_images()]


# --- edits -------------------------------------------------------------------------------
# Benign edits of the kind re-uploaded copies go through. Each one keeps the input's mode
# (RGB or L), except greyscale, which returns L.


def _jpeg_q30(image: Image.Image) -> Image.Image:
    """Re-encode as a low-quality JPEG (quality 30), as messaging apps do."""
    with Image.open(io.BytesIO(encode_jpeg(image, quality=30))) as decoded:
        decoded.load()
        return decoded.copy()


def _resize_half(image: Image.Image) -> Image.Image:
    """Halve both sides (Lanczos), as thumbnails and mobile uploads do."""
    width, height = image.size
    return image.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS)


def _blur(image: Image.Image) -> Image.Image:
    """Gaussian blur with a radius of 0.8% of the short side (3 px at 400 px), at least 1."""
    radius = max(1.0, 0.008 * min(image.size))
    return image.filter(ImageFilter.GaussianBlur(radius))


def _brighten(image: Image.Image) -> Image.Image:
    """Brightness +30% (Pillow's ImageEnhance.Brightness at 1.3; highlights clip)."""
    return ImageEnhance.Brightness(image).enhance(1.3)


def _greyscale(image: Image.Image) -> Image.Image:
    """Convert to greyscale (mode L, ITU-R 601 luma)."""
    return image.convert("L")


def _crop(fraction: float) -> Edit:
    def crop(image: Image.Image) -> Image.Image:
        width, height = image.size
        dx, dy = round(width * fraction), round(height * fraction)
        return image.crop((dx, dy, width - dx, height - dy))

    crop.__doc__ = f"Crop {fraction:.0%} of the width and height off each side."
    return crop


def _transpose(method: Image.Transpose, what: str) -> Edit:
    def transpose(image: Image.Image) -> Image.Image:
        return image.transpose(method)

    transpose.__doc__ = f"{what} (lossless)."
    return transpose


def _pad(*, vertical: bool, fraction: float = 0.12) -> Edit:
    def pad(image: Image.Image) -> Image.Image:
        width, height = image.size
        if vertical:
            bar = round(height * fraction)
            border = (0, bar, 0, bar)
        else:
            bar = round(width * fraction)
            border = (bar, 0, bar, 0)
        return ImageOps.expand(image, border=border, fill="black")

    where = "top and bottom (letterbox)" if vertical else "left and right (pillarbox)"
    side = "height" if vertical else "width"
    pad.__doc__ = f"Add black bars {where}, each {fraction:.0%} of the original {side}."
    return pad


def _text_banner(image: Image.Image, fraction: float = 0.10) -> Image.Image:
    """Paint a dark bar with white caption text over the bottom 10% of the image."""
    width, height = image.size
    bar = max(1, round(height * fraction))
    out = image.copy()
    draw = ImageDraw.Draw(out)
    dark, light = ((24, 24, 24), (255, 255, 255)) if out.mode == "RGB" else (24, 255)
    draw.rectangle((0, height - bar, width, height), fill=dark)
    font = ImageFont.load_default(size=max(6, int(bar * 0.6)))
    caption = "SYNTHETIC · BENIGN SAMPLE"
    draw.text((bar // 2, height - bar // 2), caption, fill=light, font=font, anchor="lm")
    return out


EDITS: dict[str, Edit] = {
    "jpeg_q30": _jpeg_q30,
    "resize_half": _resize_half,
    "blur": _blur,
    "brightness_+30pc": _brighten,
    "greyscale": _greyscale,
    "crop_1pc": _crop(0.01),
    "crop_2pc": _crop(0.02),
    "crop_5pc": _crop(0.05),
    "rotate_90": _transpose(Image.Transpose.ROTATE_90, "Rotate 90° counter-clockwise"),
    "rotate_180": _transpose(Image.Transpose.ROTATE_180, "Rotate 180°"),
    "rotate_270": _transpose(Image.Transpose.ROTATE_270, "Rotate 270° counter-clockwise"),
    "flip_horizontal": _transpose(Image.Transpose.FLIP_LEFT_RIGHT, "Mirror left to right"),
    "flip_vertical": _transpose(Image.Transpose.FLIP_TOP_BOTTOM, "Mirror top to bottom"),
    "letterbox_12pc": _pad(vertical=True),
    "pillarbox_12pc": _pad(vertical=False),
    "text_banner_10pc": _text_banner,
}
"""Benign edits by name, in a stable order; each returns a new image (see `Edit`)."""


# --- test files --------------------------------------------------------------------------


def upscale_to(image: Image.Image, megapixels: float, *, grain: float = 0.0) -> Image.Image:
    """Resize (bicubic, keeping the aspect ratio) to about `megapixels` million pixels.

    Used to make camera-sized test files (1 MP, 12 MP) from the small sample photos.
    Upscaled pixels are smoother than a camera's; `grain` adds deterministic Gaussian
    noise with that standard deviation (in 8-bit levels) to stand in for sensor noise,
    which makes JPEG files larger and slower to decode, as real photos are.
    """
    width, height = image.size
    scale = math.sqrt(megapixels * 1_000_000 / (width * height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(size, Image.Resampling.BICUBIC)
    if grain <= 0:
        return resized
    rng = np.random.default_rng(size[0] * 65_537 + size[1])
    pixels = np.asarray(resized, dtype=np.float32)
    noisy = pixels + rng.standard_normal(pixels.shape, dtype=np.float32) * np.float32(grain)
    return Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8), resized.mode)


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """Encode as a baseline JPEG (Pillow's defaults: 4:2:0 chroma for RGB), as cameras do."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
