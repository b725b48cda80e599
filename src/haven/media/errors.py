"""Typed failures for bad media, so a batch can record one file's problem and carry on."""

from __future__ import annotations

__all__ = [
    "CorruptMedia",
    "DecompressionBomb",
    "EmptyFile",
    "MediaError",
    "NotAnImage",
    "TruncatedFile",
    "UnsupportedCodec",
]


class MediaError(Exception):
    """Base of every media failure; `code` is a stable machine-readable name."""

    code = "media_error"


class EmptyFile(MediaError):
    code = "empty_file"


class NotAnImage(MediaError):
    code = "not_media"


class TruncatedFile(MediaError):
    code = "truncated"


class CorruptMedia(MediaError):
    code = "corrupt"


class UnsupportedCodec(MediaError):
    code = "unsupported_codec"


class DecompressionBomb(MediaError):
    code = "decompression_bomb"
