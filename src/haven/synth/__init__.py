"""The synthetic world: benign stand-ins for demos, tests, training and benchmarks.

Haven never holds real abusive material, not even in its tests (DESIGN.md, hard rules).
Matching is proven instead on benign photos of objects and places and on images generated
in code, edited the way re-uploaded copies are edited. Nothing here depicts a person.
"""

from haven.synth.images import (
    EDITS,
    EXCLUDED_SAMPLES,
    SAMPLE_PHOTOS,
    Edit,
    benign_photos,
    encode_jpeg,
    generated_images,
    sample_photos,
    upscale_to,
)

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
