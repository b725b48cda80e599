"""Sealed files: only the recipient's key opens them, and any change to any byte is refused.

No database: `haven.reports.sealing` is plain code. The keys are generated per test; the
content is random bytes (synthetic).
"""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import SealedBox
from nacl.signing import SigningKey

from haven.keys import key_id_of
from haven.reports import sealing
from haven.reports.format import EncryptedContent
from haven.reports.sealing import SealError, hash_mismatches, open_file, seal_file

RECIPIENT = SigningKey(bytes(range(32)))
PUBLIC = bytes(RECIPIENT.verify_key)
KEY_ID = key_id_of(PUBLIC)
SEED = bytes(RECIPIENT)
CONTENT = b"synthetic file content for the sealing tests, not a real file"


def _sealed(content: bytes = CONTENT) -> bytes:
    return seal_file(content, PUBLIC, KEY_ID).ciphertext


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5000))
def test_what_is_sealed_opens_to_the_same_bytes(content: bytes) -> None:
    ciphertext = _sealed(content)
    assert open_file(ciphertext, SEED) == content
    assert len(ciphertext) == len(content) + sealing.overhead(KEY_ID)
    if len(content) >= 16:
        assert content not in ciphertext


def test_the_meta_is_the_reports_encrypted_content() -> None:
    sealed = seal_file(CONTENT, PUBLIC, KEY_ID)
    meta = EncryptedContent(**sealed.meta)  # the report format accepts it as it is
    assert meta.algorithm == sealing.ALGORITHM
    assert meta.recipient_key_id == KEY_ID == sealing.recipient_key_id(sealed.ciphertext)
    assert meta.sha256_of_ciphertext == hashlib.sha256(sealed.ciphertext).hexdigest()
    assert meta.size == len(sealed.ciphertext)


def test_each_seal_uses_a_fresh_key_and_nonce() -> None:
    first, second = _sealed(), _sealed()
    assert first != second
    assert first[:6] == second[:6]  # same magic, version, key id length
    assert open_file(first, SEED) == open_file(second, SEED) == CONTENT


def test_the_layout_is_the_documented_one() -> None:
    """Open a sealed file with the primitives alone, reading the layout the docstring gives:
    another implementation can follow it."""
    data = _sealed()
    assert data[:4] == b"HVSF" and data[4] == 1
    k = data[5]
    assert data[6 : 6 + k].decode("ascii") == KEY_ID
    (s,) = struct.unpack(">H", data[6 + k : 8 + k])
    assert s == 80
    file_key = SealedBox(RECIPIENT.to_curve25519_private_key()).decrypt(data[8 + k : 8 + k + s])
    nonce = data[8 + k + s : 20 + k + s]
    ad = b"haven.reports.sealed-file.v1\x00" + data[: 8 + k + s]
    assert AESGCM(file_key).decrypt(nonce, data[20 + k + s :], ad) == CONTENT


def test_another_key_cannot_open_it() -> None:
    other = SigningKey.generate()
    with pytest.raises(SealError, match=f"sealed to key {KEY_ID}, not to this key"):
        open_file(_sealed(), bytes(other))


def test_a_file_sealed_to_another_key_under_this_keys_id_does_not_open() -> None:
    """Rewriting the header's key id to the opener's does not help: the sealed key is not
    for it, and the header is authenticated."""
    other = SigningKey.generate()
    other_id = key_id_of(bytes(other.verify_key))
    data = bytearray(_sealed())
    data[6 : 6 + len(KEY_ID)] = other_id.encode()
    with pytest.raises(SealError, match="does not open"):
        open_file(bytes(data), bytes(other))


# One offset inside each region of the layout (k = 16 for Haven key ids, s = 80).
REGIONS = {
    "magic": 0,
    "version": 4,
    "key id length": 5,
    "key id": 6 + 3,
    "sealed key length": 6 + 16,
    "sealed key (ephemeral public key)": 24 + 5,
    "sealed key (box)": 24 + 70,
    "nonce": 104 + 4,
    "ciphertext": 116 + 10,
    "tag": -1,
}


@pytest.mark.parametrize("offset", REGIONS.values(), ids=REGIONS.keys())
def test_a_change_in_any_region_is_refused(offset: int) -> None:
    data = bytearray(_sealed())
    assert len(data) > 116 + 10
    data[offset] ^= 0x01
    with pytest.raises(SealError):
        open_file(bytes(data), SEED)


def test_every_byte_flipped_is_refused() -> None:
    original = _sealed(b"short")
    for offset in range(len(original)):
        data = bytearray(original)
        data[offset] ^= 0x80
        with pytest.raises(SealError):
            open_file(bytes(data), SEED)


def test_every_truncation_and_an_extension_is_refused() -> None:
    original = _sealed(b"short content")
    for length in range(len(original)):
        with pytest.raises(SealError):
            open_file(original[:length], SEED)
    with pytest.raises(SealError, match="damaged"):
        open_file(original + b"\x00", SEED)


def test_refusals_say_what_is_wrong() -> None:
    data = _sealed()
    with pytest.raises(SealError, match="not a Haven sealed file"):
        open_file(b"PK\x03\x04" + data[4:], SEED)
    with pytest.raises(SealError, match="version 2 is not supported"):
        open_file(data[:4] + b"\x02" + data[5:], SEED)
    with pytest.raises(SealError, match="content is damaged"):
        open_file(data[:-1] + bytes([data[-1] ^ 1]), SEED)
    with pytest.raises(SealError, match="32-byte Ed25519 seed"):
        open_file(data, b"short")


def test_sealing_refuses_a_bad_recipient() -> None:
    with pytest.raises(SealError, match="not the id of that public key"):
        seal_file(CONTENT, PUBLIC, "0123456789abcdef")
    with pytest.raises(SealError, match="not an Ed25519 public key"):
        seal_file(CONTENT, b"\x01" * 31, KEY_ID)
    with pytest.raises(SealError, match="printable ASCII"):
        seal_file(CONTENT, PUBLIC, "")


def test_hash_mismatches_names_what_differs() -> None:
    listed = {
        "size": len(CONTENT),
        "md5": hashlib.md5(CONTENT, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
        "pdq": "ab" * 32,  # not checked: a perceptual hash is not a digest of the bytes
    }
    assert hash_mismatches(listed, CONTENT) == []
    assert hash_mismatches(listed, CONTENT + b"!") == ["size", "md5", "sha256"]
    assert hash_mismatches({"sha1": "0" * 40}, CONTENT) == ["sha1"]
    assert hash_mismatches({}, b"anything") == []
