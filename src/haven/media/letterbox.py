"""Finding uniform borders (letterbox, pillarbox, padding) so padded copies match originals.

Works on the luma plane PDQ is computed from. A border is a run of edge rows or columns
that are almost all within `tolerance` of that edge's own colour, so black, white and grey
bars are all found, and JPEG ringing near the bar's edge does not stop the scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ContentBox", "find_content_box"]


@dataclass(frozen=True, slots=True)
class ContentBox:
    """The region inside the borders, as half-open pixel bounds."""

    top: int
    bottom: int
    left: int
    right: int

    def crop(self, pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return pixels[self.top : self.bottom, self.left : self.right]

    def symmetric(self, height: int, width: int) -> ContentBox | None:
        """The box with equal bars on opposite sides (the thinner of each pair), or None when
        it is this box already.

        Added bars are usually symmetric; when the picture's own dark edge merges with one
        bar, the detected bars differ and the wider one eats into the picture, so this
        crop is looked up as well.
        """
        vertical = min(self.top, height - self.bottom)
        horizontal = min(self.left, width - self.right)
        box = ContentBox(vertical, height - vertical, horizontal, width - horizontal)
        if box == self or (vertical == 0 and horizontal == 0):
            return None
        return box


def _uniform(
    lines: NDArray[np.uint8], colour: int, tolerance: int, share: float
) -> NDArray[np.bool_]:
    close = np.abs(lines.astype(np.int16) - colour) <= tolerance
    uniform: NDArray[np.bool_] = close.mean(axis=1) >= share
    return uniform


def _leading_border(lines: NDArray[np.uint8], tolerance: int, share: float) -> int:
    """How many leading lines (rows of `lines`) are uniform in the first line's colour.

    Most images have no border: the first line alone settles that, so the common case costs
    one line, not the whole plane. A border never covers more than half the image.
    """
    colour = int(np.median(lines[0]))
    if not _uniform(lines[:1], colour, tolerance, share)[0]:
        return 0
    uniform = _uniform(lines[: len(lines) // 2 + 1], colour, tolerance, share)
    not_uniform = np.flatnonzero(~uniform)
    return int(not_uniform[0]) if not_uniform.size else len(uniform)


def find_content_box(
    luma: NDArray[np.uint8],
    *,
    tolerance: int = 12,
    share: float = 0.98,
    min_border: int = 2,
    min_content_fraction: float = 0.25,
) -> ContentBox | None:
    """The box inside uniform borders, or None when there are no borders worth removing.

    None too when removing them would leave less than `min_content_fraction` of a side: a
    mostly uniform image (a blank page, a test card) is not letterboxed content.
    """
    if luma.ndim != 2 or min(luma.shape) < 8:
        return None
    height, width = luma.shape
    top = _leading_border(luma, tolerance, share)
    bottom = _leading_border(luma[::-1], tolerance, share)
    left = _leading_border(luma.T, tolerance, share)
    right = _leading_border(luma.T[::-1], tolerance, share)
    top, bottom, left, right = (b if b >= min_border else 0 for b in (top, bottom, left, right))
    if top + bottom + left + right == 0:
        return None
    box = ContentBox(top=top, bottom=height - bottom, left=left, right=width - right)
    if (box.bottom - box.top) < min_content_fraction * height or (
        box.right - box.left
    ) < min_content_fraction * width:
        return None
    return box
