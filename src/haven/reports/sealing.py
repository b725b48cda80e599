"""Sealing a report's files to the node that receives them, so only that node can open them.

Why: a report's files (the reported images and videos) travel from a provider's node to an
authority's node, and sit in both databases, in backups and in proxies' buffers on the
way. They must be unreadable everywhere but at the one node the report is for. The
recipient is named by its Ed25519 identity key, the key an administrator pinned after
checking its fingerprint (`haven.exchange.models.PinnedNode`), so a file is sealed to the
node the provider decided to trust and to no key a network attacker could swap in.

How: a fresh AES-256-GCM key encrypts the content, and a NaCl sealed box (X25519 with an
ephemeral sender key, XSalsa20-Poly1305) wraps that key for the recipient's X25519 key,
which is the birational map of its Ed25519 key (libsodium's `crypto_sign_ed25519_pk_to_
curve25519`; the recipient opens with the matching map of its signing seed). The sender
cannot open what it sealed: it never holds a private key of the recipient. The AES layer
keeps large files out of the sealed box (which needs the whole message in one buffer in
PyNaCl anyway) and authenticates the header with the content.

Layout of a sealed file, version 1 (integers big-endian):

    offset      size    field
    0           4       magic b"HVSF"
    4           1       version, 1
    5           1       k: length of the recipient key id (1..64)
    6           k       the recipient key id, ASCII (Haven's is 16 hex digits, `key_id_of`)
    6+k         2       s: length of the sealed key (80 for version 1)
    8+k         s       NaCl sealed box of the 32-byte AES key
    8+k+s       12      AES-GCM nonce
    20+k+s      n+16    AES-256-GCM ciphertext of the n content bytes, then its 16-byte tag

The AES-GCM associated data is `AD_PREFIX` followed by the header (bytes 0 to 8+k+s), so
changing the key id, the lengths or the sealed key makes the file fail to open, as does
any change to the nonce or ciphertext. `EncryptedContent` in the report (the `meta` of a
`SealedFile`) carries the algorithm name, the recipient key id, and the SHA-256 and size
of these bytes, which the receiver checks before storing them.

No Django: both sides, and tools outside Haven, import this module.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from haven.keys import key_id_of

__all__ = [
    "AD_PREFIX",
    "ALGORITHM",
    "MAGIC",
    "VERSION",
    "SealError",
    "SealedFile",
    "hash_mismatches",
    "open_file",
    "overhead",
    "recipient_key_id",
    "seal_file",
]

ALGORITHM: Final = "x25519-xsalsa20-poly1305-sealedbox+aes-256-gcm"
MAGIC: Final = b"HVSF"
VERSION: Final = 1
AD_PREFIX: Final = b"haven.reports.sealed-file.v1\x00"

_NONCE: Final = 12
_TAG: Final = 16
_FILE_KEY: Final = 32
_SEALED_KEY: Final = 32 + 16 + _FILE_KEY  # ephemeral X25519 key, Poly1305 tag, file key
_KEY_ID: Final = re.compile(r"[\x21-\x7e]{1,64}\Z")


class SealError(ValueError):
    """A file that cannot be sealed or opened: bad layout, wrong key, damaged; says which."""


@dataclass(frozen=True, slots=True)
class SealedFile:
    """A sealed file's bytes and its `EncryptedContent` (as a dict, ready for the report)."""

    ciphertext: bytes
    meta: dict[str, Any]


def overhead(key_id: str) -> int:
    """How many bytes sealing adds to content, for a recipient key id of this length."""
    return 4 + 1 + 1 + len(key_id.encode("ascii")) + 2 + _SEALED_KEY + _NONCE + _TAG


def _check_key_id(key_id: str) -> bytes:
    if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
        raise SealError("a recipient key id is 1 to 64 printable ASCII characters")
    return key_id.encode("ascii")


def seal_file(content: bytes, recipient_public_key: bytes, recipient_key_id: str) -> SealedFile:
    """Seal `content` for the holder of the Ed25519 key `recipient_public_key`.

    `recipient_key_id` names that key in the header and the meta; it must be the key's
    Haven id (`haven.keys.key_id_of`), so that a pin's id and its key cannot disagree.
    """
    key_id = _check_key_id(recipient_key_id)
    try:
        curve = VerifyKey(bytes(recipient_public_key)).to_curve25519_public_key()
    except (CryptoError, ValueError, TypeError):
        raise SealError("the recipient key is not an Ed25519 public key") from None
    if key_id_of(bytes(recipient_public_key)) != recipient_key_id:
        raise SealError(
            f"key id {recipient_key_id!r} is not the id of that public key "
            f"({key_id_of(bytes(recipient_public_key))})"
        )
    file_key = AESGCM.generate_key(bit_length=256)
    sealed_key = SealedBox(PublicKey(bytes(curve))).encrypt(file_key)
    header = (
        MAGIC
        + bytes([VERSION, len(key_id)])
        + key_id
        + struct.pack(">H", len(sealed_key))
        + sealed_key
    )
    nonce = secrets.token_bytes(_NONCE)
    body = AESGCM(file_key).encrypt(nonce, bytes(content), AD_PREFIX + header)
    ciphertext = header + nonce + body
    meta = {
        "algorithm": ALGORITHM,
        "recipient_key_id": recipient_key_id,
        "sha256_of_ciphertext": hashlib.sha256(ciphertext).hexdigest(),
        "size": len(ciphertext),
    }
    return SealedFile(ciphertext=ciphertext, meta=meta)


@dataclass(frozen=True, slots=True)
class _Parts:
    key_id: str
    header: bytes
    sealed_key: bytes
    nonce: bytes
    body: bytes


def _parse(ciphertext: bytes) -> _Parts:
    data = bytes(ciphertext)
    if len(data) < 6 or data[:4] != MAGIC:
        raise SealError("not a Haven sealed file (no HVSF header)")
    if data[4] != VERSION:
        raise SealError(f"sealed file version {data[4]} is not supported (this node reads 1)")
    k = data[5]
    if not 1 <= k <= 64 or len(data) < 8 + k:
        raise SealError("sealed file is truncated or its key id length is damaged")
    try:
        key_id = data[6 : 6 + k].decode("ascii")
    except UnicodeDecodeError:
        raise SealError("the sealed file's recipient key id is damaged") from None
    if not _KEY_ID.match(key_id):
        raise SealError("the sealed file's recipient key id is damaged")
    (s,) = struct.unpack(">H", data[6 + k : 8 + k])
    if s != _SEALED_KEY:
        raise SealError(f"the sealed key is {s} bytes, not {_SEALED_KEY}: the file is damaged")
    start = 8 + k + s
    if len(data) < start + _NONCE + _TAG:
        raise SealError("sealed file is truncated")
    return _Parts(
        key_id=key_id,
        header=data[:start],
        sealed_key=data[8 + k : start],
        nonce=data[start : start + _NONCE],
        body=data[start + _NONCE :],
    )


def recipient_key_id(ciphertext: bytes) -> str:
    """The id of the key a sealed file is sealed to (from its header); SealError if none."""
    return _parse(ciphertext).key_id


def open_file(ciphertext: bytes, signing_seed: bytes) -> bytes:
    """The content of a sealed file, opened with the recipient's Ed25519 signing seed.

    Raises SealError, and nothing else, when the bytes are not a sealed file, are sealed to
    another key, or were changed anywhere (header, sealed key, nonce, ciphertext, tag).
    """
    parts = _parse(ciphertext)
    try:
        signing = SigningKey(bytes(signing_seed))
    except (CryptoError, ValueError, TypeError):
        raise SealError("the opening key is not a 32-byte Ed25519 seed") from None
    own_id = key_id_of(bytes(signing.verify_key))
    if own_id != parts.key_id:
        raise SealError(f"the file is sealed to key {parts.key_id}, not to this key ({own_id})")
    try:
        file_key = SealedBox(signing.to_curve25519_private_key()).decrypt(parts.sealed_key)
    except (CryptoError, ValueError, TypeError):
        raise SealError("the sealed file key does not open: the file is damaged") from None
    if len(file_key) != _FILE_KEY:
        raise SealError("the sealed file key has the wrong length: the file is damaged")
    try:
        return AESGCM(file_key).decrypt(parts.nonce, parts.body, AD_PREFIX + parts.header)
    except InvalidTag:
        raise SealError("the sealed file's content is damaged (authentication failed)") from None


def hash_mismatches(listed: Mapping[str, Any], content: bytes) -> list[str]:
    """Which of a report file's listed `size`, `md5`, `sha1`, `sha256` `content` disagrees
    with (empty when all that are listed match): the bytes must be the file reported."""
    actual: dict[str, Any] = {
        "size": len(content),
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    return [name for name, value in actual.items() if listed.get(name) not in (None, value)]
