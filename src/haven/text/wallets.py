"""Find cryptocurrency addresses and keep only those whose checksum is valid.

Why: payment addresses link ads and operations across sites, but random base58 or hex
strings (image ids, tracking codes) look alike. Checksums make the match near-certain:
Base58Check (double SHA-256, Bitcoin/Litecoin/Dogecoin/Tron legacy addresses), Bech32 and
Bech32m (BIP-173 / BIP-350 segwit addresses) and, for Ethereum, the EIP-55 mixed-case
checksum (Keccak-256) when the address is written in mixed case. Matching runs on the
original text: base58 is case-sensitive, so the case-folded text cannot be used.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "WalletMatch",
    "base58check_decode",
    "bech32_decode",
    "eip55_checksum",
    "find_wallets",
    "is_valid_address",
    "keccak256",
]


@dataclass(frozen=True)
class WalletMatch:
    """A checksum-valid address; ``kind`` is "base58check", "bech32", "bech32m" or "eth"."""

    start: int
    end: int
    address: str
    kind: str


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}
# Version bytes of 21-byte payloads: BTC P2PKH/P2SH (+testnet), LTC, DOGE, Tron.
_B58_VERSIONS = frozenset({0x00, 0x05, 0x6F, 0xC4, 0x30, 0x32, 0x1E, 0x16, 0x41})
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {char: index for index, char in enumerate(_BECH32_CHARSET)}
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_SEGWIT_HRPS = frozenset({"bc", "tb", "ltc", "tltc", "bcrt"})

_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"(?P<b58>[13LMD9T][1-9A-HJ-NP-Za-km-z]{25,34})"
    r"|(?P<bech>(?:bc|tb|ltc|BC|TB|LTC)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87})"
    r"|(?P<eth>0x[0-9a-fA-F]{40})"
    r")(?![0-9A-Za-z])"
)


def base58check_decode(address: str) -> bytes | None:
    """Payload (version byte + data) of a Base58Check string, None if the checksum fails."""
    number = 0
    for char in address:
        value = _B58_INDEX.get(char)
        if value is None:
            return None
        number = number * 58 + value
    leading = len(address) - len(address.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    raw = b"\x00" * leading + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def _polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(generators):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def bech32_decode(address: str) -> tuple[str, list[int], str] | None:
    """``(hrp, data, "bech32" | "bech32m")`` with the checksum removed, or None."""
    if address.lower() != address and address.upper() != address:
        return None  # mixed case is invalid in Bech32
    address = address.lower()
    separator = address.rfind("1")
    if separator < 1 or separator + 7 > len(address) or len(address) > 90:
        return None
    hrp, rest = address[:separator], address[separator + 1 :]
    data = [_BECH32_INDEX.get(char, -1) for char in rest]
    if -1 in data:
        return None
    constant = _polymod(_hrp_expand(hrp) + data)
    if constant == _BECH32_CONST:
        return hrp, data[:-6], "bech32"
    if constant == _BECH32M_CONST:
        return hrp, data[:-6], "bech32m"
    return None


def _convert_bits(data: list[int], source: int, target: int) -> list[int] | None:
    accumulator = bits = 0
    result: list[int] = []
    mask = (1 << target) - 1
    for value in data:
        accumulator = (accumulator << source) | value
        bits += source
        while bits >= target:
            bits -= target
            result.append((accumulator >> bits) & mask)
    if bits >= source or (accumulator << (target - bits)) & mask:
        return None
    return result


def _is_segwit(address: str) -> str | None:
    """Encoding name when ``address`` is a valid segwit address (BIP-173/350 rules)."""
    decoded = bech32_decode(address)
    if decoded is None:
        return None
    hrp, data, encoding = decoded
    if hrp not in _SEGWIT_HRPS or not data or data[0] > 16:
        return None
    program = _convert_bits(data[1:], 5, 8)
    if program is None or not 2 <= len(program) <= 40:
        return None
    if data[0] == 0 and (encoding != "bech32" or len(program) not in (20, 32)):
        return None
    if data[0] != 0 and encoding != "bech32m":
        return None
    return encoding


# Keccak-256 (the pre-standard padding Ethereum uses; hashlib's sha3_256 differs).
_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
_ROTATIONS = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56), (27, 20, 39, 8, 14),
)  # fmt: skip
_MASK64 = (1 << 64) - 1


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK64 if shift else value


def _keccak_f(state: list[list[int]]) -> None:
    for constant in _ROUND_CONSTANTS:
        column = [
            state[x][0] ^ state[x][1] ^ state[x][2] ^ state[x][3] ^ state[x][4] for x in range(5)
        ]
        for x in range(5):
            delta = column[(x - 1) % 5] ^ _rotl(column[(x + 1) % 5], 1)
            for y in range(5):
                state[x][y] ^= delta
        moved = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                moved[y][(2 * x + 3 * y) % 5] = _rotl(state[x][y], _ROTATIONS[x][y])
        for x in range(5):
            for y in range(5):
                state[x][y] = moved[x][y] ^ (~moved[(x + 1) % 5][y] & moved[(x + 2) % 5][y])
        state[0][0] ^= constant


def keccak256(data: bytes) -> bytes:
    """Keccak-256 digest (rate 136 bytes, padding 0x01 ... 0x80)."""
    rate = 136
    padded = bytearray(data) + b"\x01" + b"\x00" * ((-len(data) - 1) % rate)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for offset in range(0, len(padded), rate):
        block = padded[offset : offset + rate]
        for lane in range(rate // 8):
            x, y = lane % 5, lane // 5
            state[x][y] ^= int.from_bytes(block[lane * 8 : lane * 8 + 8], "little")
        _keccak_f(state)
    out = b"".join(state[lane % 5][lane // 5].to_bytes(8, "little") for lane in range(4))
    return out


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case spelling of a 0x-prefixed 40-hex Ethereum address."""
    hexdigits = address[2:].lower()
    digest = keccak256(hexdigits.encode("ascii")).hex()
    return "0x" + "".join(
        char.upper() if int(digest[i], 16) >= 8 else char for i, char in enumerate(hexdigits)
    )


def _classify(address: str) -> str | None:
    if address.startswith("0x"):
        hexdigits = address[2:]
        if len(hexdigits) != 40:
            return None
        if hexdigits.lower() == hexdigits or hexdigits.upper() == hexdigits:
            return "eth"  # no checksum written: accept on form alone
        return "eth" if eip55_checksum(address) == address else None
    if address[:2].lower() in ("bc", "tb") or address[:3].lower() == "ltc":
        segwit = _is_segwit(address)
        if segwit is not None:
            return segwit
    payload = base58check_decode(address)
    if payload is not None and len(payload) == 21 and payload[0] in _B58_VERSIONS:
        return "base58check"
    return None


def is_valid_address(address: str) -> bool:
    """True when ``address`` passes its checksum (any supported kind)."""
    return _classify(address) is not None


def find_wallets(text: str) -> list[WalletMatch]:
    """Checksum-valid addresses in ``text`` (the original, not the case-folded text)."""
    found: list[WalletMatch] = []
    for match in _CANDIDATE.finditer(text):
        address = match.group()
        kind = _classify(address)
        if kind is not None:
            found.append(WalletMatch(match.start(), match.end(), address, kind))
    return found
