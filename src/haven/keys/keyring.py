"""A folder of keys: `master/` (AES-256-GCM) and `signing/` (Ed25519), newest is active.

Layout under `HAVEN_KEYS_DIR` (0700; every file 0600):

    master/<created>-<key id>.key    32 random bytes, base64
    signing/<created>-<key id>.key   the Ed25519 seed, base64

`<created>` is a UTC timestamp, so the newest file is the active key and rotation is adding a
file. A key is never deleted by Haven: ciphertexts and signatures name the key that made
them, so old ones stay readable and verifiable. Backing up the folder (see the operator
guide) is backing up every key the node ever had.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from haven.web.config import ensure_private_dir, write_private_file

__all__ = [
    "KeyRing",
    "KeyRingError",
    "MasterKey",
    "NodeSigningKey",
    "SignatureInvalid",
    "fingerprint",
    "key_id_of",
    "verify_signature",
]

_CIPHER_VERSION = b"HVK1"
_NONCE = 12


class KeyRingError(ValueError):
    """A key folder or a ciphertext that cannot be used; the message says why."""


class SignatureInvalid(ValueError):
    """A signature that does not verify against the key it names."""


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw Ed25519 public key, in groups of four hex digits, for people."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def key_id_of(public_key: bytes) -> str:
    """The short id a signature carries: the first 16 hex digits of the fingerprint."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise SignatureInvalid unless `signature` is `public_key`'s over `message`."""
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError) as exc:
        raise SignatureInvalid(f"signature does not verify ({exc})") from None


@dataclass(frozen=True, slots=True)
class MasterKey:
    id: str
    created: str
    secret: bytes


@dataclass(frozen=True, slots=True)
class NodeSigningKey:
    id: str
    created: str
    seed: bytes

    @property
    def public_key(self) -> bytes:
        return bytes(SigningKey(self.seed).verify_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


class KeyRing:
    """The node's keys in one folder; created on first use with safe permissions."""

    def __init__(self, folder: Path | str, *, create: bool = True) -> None:
        self.folder = Path(folder)
        if create:
            with self._locked():
                if not self._files("master"):
                    self._new_master()
                if not self._files("signing"):
                    self._new_signing()
        self._load()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise creation and rotation between processes (several server workers)."""
        ensure_private_dir(self.folder)
        handle = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            os.close(handle)

    def _files(self, kind: str) -> list[Path]:
        folder = self.folder / kind
        return sorted(folder.glob("*.key")) if folder.is_dir() else []

    def _read(self, path: Path) -> tuple[str, str, bytes]:
        created, _, key_id = path.stem.partition("-")
        try:
            secret = base64.b64decode(path.read_bytes().strip(), validate=True)
        except (binascii.Error, OSError) as exc:
            raise KeyRingError(f"{path}: unreadable key file ({exc})") from None
        if not key_id:
            raise KeyRingError(f"{path}: not a Haven key file (its name has no key id)")
        if len(secret) != 32:
            raise KeyRingError(
                f"{path}: not a Haven key file (a key is 32 bytes, this holds {len(secret)}); "
                "restore it from the keys backup"
            )
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return created, key_id, secret

    def _load(self) -> None:
        state = self._folder_state()
        masters = [MasterKey(k, c, s) for c, k, s in map(self._read, self._files("master"))]
        signers = [NodeSigningKey(k, c, s) for c, k, s in map(self._read, self._files("signing"))]
        if not masters or not signers:
            raise KeyRingError(f"{self.folder}: no keys (run `haven migrate` to create them)")
        for key in signers:
            if key_id_of(key.public_key) != key.id:
                raise KeyRingError(f"{self.folder}: signing key {key.id} does not match its name")
        self._masters = {k.id: k for k in masters}
        self._signers = {k.id: k for k in signers}
        self.master = masters[-1]
        self.signing = signers[-1]
        self._state = state

    def _folder_state(self) -> tuple[int, int]:
        """When the key folders last changed: adding a key (rotation) changes it."""
        stamps = []
        for kind in ("master", "signing"):
            try:
                stamps.append((self.folder / kind).stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return stamps[0], stamps[1]

    def refresh(self, *, force: bool = False) -> bool:
        """Reload when another process rotated a key since (or when `force`d); True when the
        folder was read again.

        Several server workers and the `haven keys rotate` command share one folder: each
        picks up a new active key on its next signature or encryption, and a ciphertext or
        signature by a key it has not seen yet triggers a reload instead of a failure.
        """
        if not force and self._folder_state() == self._state:
            return False
        self._load()
        return True

    def _new_master(self) -> MasterKey:
        key = MasterKey(secrets.token_hex(8), _stamp(), secrets.token_bytes(32))
        path = self.folder / "master" / f"{key.created}-{key.id}.key"
        write_private_file(path, base64.b64encode(key.secret))
        return key

    def _new_signing(self) -> NodeSigningKey:
        seed = secrets.token_bytes(32)
        key = NodeSigningKey(key_id_of(bytes(SigningKey(seed).verify_key)), _stamp(), seed)
        path = self.folder / "signing" / f"{key.created}-{key.id}.key"
        write_private_file(path, base64.b64encode(seed))
        return key

    # -- rotation ---------------------------------------------------------------------------
    def rotate_master(self) -> MasterKey:
        """A new active master key; older ones keep decrypting what they encrypted."""
        with self._locked():
            key = self._new_master()
        self._load()
        return key

    def rotate_signing(self) -> NodeSigningKey:
        """A new active signing key; older public keys keep verifying older signatures."""
        with self._locked():
            key = self._new_signing()
        self._load()
        return key

    @property
    def master_keys(self) -> list[MasterKey]:
        return list(self._masters.values())

    @property
    def signing_keys(self) -> list[NodeSigningKey]:
        return list(self._signers.values())

    # -- encryption -------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        """AES-256-GCM under the active master key; the result names the key it used.

        `associated` binds the ciphertext to its context (a record id, a purpose), so a
        ciphertext copied onto another record fails to decrypt.
        """
        self.refresh()
        key = self.master
        nonce = secrets.token_bytes(_NONCE)
        header = _CIPHER_VERSION + key.id.encode()
        sealed = AESGCM(key.secret).encrypt(nonce, plaintext, header + associated)
        return header + nonce + sealed

    def decrypt(self, blob: bytes, associated: bytes = b"") -> bytes:
        if len(blob) < len(_CIPHER_VERSION) + 16 + _NONCE + 16 or not blob.startswith(
            _CIPHER_VERSION
        ):
            raise KeyRingError("not a Haven ciphertext")
        start = len(_CIPHER_VERSION)
        key_id = blob[start : start + 16].decode("ascii", "replace")
        key = self._masters.get(key_id)
        if key is None and self.refresh(force=True):
            key = self._masters.get(key_id)
        if key is None:
            raise KeyRingError(f"ciphertext was made with master key {key_id}, which is not here")
        header = blob[: start + 16]
        nonce = blob[start + 16 : start + 16 + _NONCE]
        try:
            return AESGCM(key.secret).decrypt(
                nonce, blob[start + 16 + _NONCE :], header + associated
            )
        except InvalidTag:
            raise KeyRingError("ciphertext is damaged or belongs to another record") from None

    # -- signatures -------------------------------------------------------------------------
    def sign(self, message: bytes) -> tuple[str, bytes]:
        """(key id, Ed25519 signature) with the active signing key."""
        self.refresh()
        key = self.signing
        return key.id, bytes(SigningKey(key.seed).sign(message).signature)

    def public_key(self, key_id: str) -> bytes:
        key = self._signers.get(key_id)
        if key is None and self.refresh(force=True):
            key = self._signers.get(key_id)
        if key is None:
            raise SignatureInvalid(f"signing key {key_id} is not one of this node's keys")
        return key.public_key

    def verify(self, key_id: str, message: bytes, signature: bytes) -> None:
        """Raise SignatureInvalid unless one of this node's keys, current or old, signed it."""
        verify_signature(self.public_key(key_id), message, signature)
