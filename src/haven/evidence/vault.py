"""The evidence vault's files: one encrypted blob per item, readable only with the master key.

Each item gets its own random 256-bit data key; the content is sealed with AES-256-GCM under
it (the blob's id is the associated data, so a blob renamed onto another id fails), and the
data key is wrapped by the node's master key (`KeyRing.encrypt`) and kept in the database,
never on disk beside the blob. Deleting an item destroys its wrapped key with its row and
unlinks the blob: without the key the bytes are noise even on a backup. Files are written
atomically (temporary file, fsync, rename, fsync of the folder) with mode 0600.

No Django here: the vault takes bytes and a key ring and gives bytes back.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.keys import KeyRing, KeyRingError
from haven.web.config import ensure_private_dir, write_private_file

__all__ = ["BLOB_MAGIC", "SealedBlob", "Vault", "VaultError"]

BLOB_MAGIC = b"HVE1"
_NONCE = 12
_ID = re.compile(r"[0-9a-f]{32}")


class VaultError(ValueError):
    """A blob that is missing, damaged, or sealed for another id or key."""


@dataclass(frozen=True, slots=True)
class SealedBlob:
    """What the database keeps about a blob: its id, the wrapped key and the plaintext's hashes."""

    blob_id: str
    wrapped_key: bytes
    size: int
    sha256: str
    md5: str
    sha1: str


class Vault:
    """Blobs under `folder/ab/<blob id>`; keys wrapped by `keyring`'s active master key."""

    def __init__(self, folder: Path | str, keyring: KeyRing) -> None:
        self.folder = ensure_private_dir(Path(folder))
        self.keyring = keyring

    def path(self, blob_id: str) -> Path:
        if not _ID.fullmatch(blob_id):
            raise VaultError(f"not a blob id: {blob_id!r}")
        return self.folder / blob_id[:2] / blob_id

    def _associated(self, blob_id: str) -> bytes:
        return b"haven.evidence:" + blob_id.encode()

    def seal(self, content: bytes) -> SealedBlob:
        """Encrypt and write `content`; the returned record is all that opens it again."""
        blob_id = secrets.token_hex(16)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(data_key).encrypt(nonce, content, self._associated(blob_id))
        path = self.path(blob_id)
        ensure_private_dir(path.parent)
        write_private_file(path, BLOB_MAGIC + nonce + sealed)
        wrapped = self.keyring.encrypt(data_key, self._associated(blob_id))
        return SealedBlob(
            blob_id,
            wrapped,
            len(content),
            hashlib.sha256(content).hexdigest(),
            hashlib.md5(content, usedforsecurity=False).hexdigest(),
            hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        )

    def open(self, blob_id: str, wrapped_key: bytes) -> bytes:
        """The plaintext; VaultError when the blob or its key is missing or does not fit."""
        try:
            raw = self.path(blob_id).read_bytes()
        except FileNotFoundError:
            raise VaultError(f"blob {blob_id} is not in the vault") from None
        if not raw.startswith(BLOB_MAGIC) or len(raw) < len(BLOB_MAGIC) + _NONCE + 16:
            raise VaultError(f"blob {blob_id} is not a vault blob")
        try:
            data_key = self.keyring.decrypt(wrapped_key, self._associated(blob_id))
        except KeyRingError as exc:
            raise VaultError(f"blob {blob_id}: the data key cannot be unwrapped ({exc})") from None
        nonce = raw[len(BLOB_MAGIC) : len(BLOB_MAGIC) + _NONCE]
        try:
            return AESGCM(data_key).decrypt(
                nonce, raw[len(BLOB_MAGIC) + _NONCE :], self._associated(blob_id)
            )
        except InvalidTag:
            raise VaultError(f"blob {blob_id} is damaged or belongs to another id") from None

    def delete(self, blob_id: str) -> bool:
        """Unlink the blob (its key dies with its database row); False if it was gone."""
        path = self.path(blob_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return True
