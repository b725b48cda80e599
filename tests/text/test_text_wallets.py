"""Wallet addresses: checksums (Base58Check, Bech32, Bech32m, EIP-55) decide.

Valid addresses are built here with small independent encoders written from the BIPs,
plus published test vectors; a one-character change must fail the checksum.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.text.wallets import (
    bech32_decode,
    eip55_checksum,
    find_wallets,
    is_valid_address,
    keccak256,
)

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def b58check_encode(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    data = [version]
    acc = bits = 0
    for byte in program:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    const = 1 if version == 0 else 0x2BC830A3
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    poly = _polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in data + checksum)


def mutate(address: str, index: int, alphabet: str) -> str:
    index %= len(address)
    char = address[index]
    options = [c for c in alphabet if c != char]
    return address[:index] + options[index % len(options)] + address[index + 1 :]


@pytest.mark.parametrize(
    "address",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # Base58Check P2PKH
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # Base58Check P2SH
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # Bech32 v0
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # Bech32m v1
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55 vector
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",  # no checksum written
    ],
)
def test_known_valid_addresses(address: str) -> None:
    assert is_valid_address(address)


def test_bip173_and_bip350_checksum_vectors() -> None:
    assert bech32_decode("A12UEL5L") == ("a", [], "bech32")
    assert bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw") is not None
    assert bech32_decode("A1LQFN3A") == ("a", [], "bech32m")
    assert bech32_decode("abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx") is not None
    assert bech32_decode("A12UEL5l") is None  # mixed case
    assert bech32_decode("a12uel5m") is None  # bad checksum


def test_keccak_and_eip55() -> None:
    expected = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"").hex() == expected
    address = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    assert eip55_checksum(address.lower()) == address
    assert not is_valid_address(address[:-1] + "D")


@given(st.binary(min_size=20, max_size=20), st.sampled_from([0x00, 0x05]), st.integers(0, 99))
def test_base58check_round_trip_and_single_change(body: bytes, version: int, index: int) -> None:
    address = b58check_encode(bytes([version]) + body)
    assert is_valid_address(address)
    assert not is_valid_address(mutate(address, index, B58))


@given(
    st.sampled_from([(0, 20), (0, 32), (1, 32)]),
    st.data(),
    st.sampled_from(["bc", "tb"]),
    st.integers(0, 99),
)
def test_segwit_round_trip_and_single_change(
    shape: tuple[int, int], data: st.DataObject, hrp: str, index: int
) -> None:
    version, size = shape
    program = data.draw(st.binary(min_size=size, max_size=size))
    address = segwit_encode(hrp, version, program)
    assert is_valid_address(address)
    assert is_valid_address(address.upper())
    position = len(hrp) + 1 + index % (len(address) - len(hrp) - 1)
    changed = address[:position] + mutate(address[position:], 0, BECH)
    assert not is_valid_address(changed)


def test_segwit_v0_must_use_bech32_not_bech32m() -> None:
    good = segwit_encode("bc", 1, bytes(32))
    # Re-encode a v0 program with the Bech32m constant: invalid per BIP-350.
    body = good[3:-6]
    data = [BECH.index(c) for c in "q" + body[1:]]
    expanded = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    poly = _polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ 0x2BC830A3
    wrong = (
        "bc1"
        + "".join(BECH[d] for d in data)
        + "".join(BECH[(poly >> 5 * (5 - i)) & 31] for i in range(6))
    )
    assert bech32_decode(wrong) is not None
    assert not is_valid_address(wrong)


def test_find_wallets_in_text_uses_original_case() -> None:
    segwit = segwit_encode("bc", 0, bytes(range(20)))
    btc = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    text = f"pay {btc} or {segwit}, not {btc[:-1]}b"
    assert [(w.address, w.kind) for w in find_wallets(text)] == [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "base58check"),
        (segwit, "bech32"),
    ]
    for wallet in find_wallets(text):
        assert text[wallet.start : wallet.end] == wallet.address
