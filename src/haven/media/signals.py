"""The signal-type registry: what kinds of hash Haven makes and how each one is compared.

Hashes are only comparable when made the same way, so every signal type names the pipeline
version that produced it; a bank records both next to each hash (see DESIGN.md).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

__all__ = [
    "MD5",
    "PDQ",
    "SHA256",
    "SIGNAL_TYPES",
    "VPDQ",
    "MalformedHash",
    "SignalType",
    "parse_hash",
    "signal_type",
]

_HEX = frozenset(string.hexdigits)


class MalformedHash(ValueError):
    """A hash that is not of its signal type's form; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class SignalType:
    """One kind of hash. `threshold` is the default match distance (0 means exact)."""

    name: str
    bits: int
    threshold: int
    description: str

    @property
    def hex_length(self) -> int:
        return self.bits // 4

    def parse(self, text: str) -> bytes:
        """Parse a hex hash strictly: exact length, hex digits only, surrounding space allowed."""
        if not isinstance(text, str):
            raise MalformedHash(f"{self.name} hash must be a string, got {type(text).__name__}")
        cleaned = text.strip()
        if len(cleaned) != self.hex_length:
            raise MalformedHash(
                f"{self.name} hash must be {self.hex_length} hex digits, got {len(cleaned)}"
            )
        if not _HEX.issuperset(cleaned):
            bad = next(ch for ch in cleaned if ch not in _HEX)
            raise MalformedHash(f"{self.name} hash has a non-hex character {bad!r}")
        return bytes.fromhex(cleaned)


PDQ = SignalType("pdq", 256, 31, "PDQ perceptual hash of an image or a video frame")
VPDQ = SignalType("vpdq", 256, 31, "a video as its sampled PDQ frames (vPDQ)")
MD5 = SignalType("md5", 128, 0, "MD5 of the whole file")
SHA256 = SignalType("sha256", 256, 0, "SHA-256 of the whole file")

SIGNAL_TYPES: dict[str, SignalType] = {s.name: s for s in (PDQ, VPDQ, MD5, SHA256)}


def signal_type(name: str) -> SignalType:
    try:
        return SIGNAL_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(SIGNAL_TYPES))
        raise MalformedHash(f"unknown signal type {name!r} (known: {known})") from None


def parse_hash(text: str, signal: SignalType = PDQ) -> bytes:
    return signal.parse(text)
