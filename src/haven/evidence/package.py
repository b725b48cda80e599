"""The export package for law enforcement: one encrypted file with content, manifest, custody.

Inside (a tar archive): `manifest.json` (every item's hashes, size, metadata, retention),
`custody.json` (each item's full chain of custody up to the export) and `files/<sha256>`
(the content). The archive is sealed with AES-256-GCM under a key derived from a passphrase
with scrypt (n=2^15, r=8, p=1), which travels apart from the package. Layout of the file:
`HVX1` + 16-byte salt + 12-byte nonce + ciphertext. `open_package` reverses it and checks
every file against its manifest hash. No Django here.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tarfile
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "MIN_PASSPHRASE",
    "PACKAGE_MAGIC",
    "OpenedPackage",
    "PackageError",
    "PackageItem",
    "build_package",
    "open_package",
]

PACKAGE_MAGIC = b"HVX1"
MIN_PASSPHRASE = 16
_SALT, _NONCE = 16, 12


class PackageError(ValueError):
    """A package that cannot be built or opened (short passphrase, wrong one, damaged)."""


@dataclass(frozen=True, slots=True)
class PackageItem:
    manifest: dict[str, Any]  # must hold "sha256"
    custody: list[dict[str, Any]]
    content: bytes


@dataclass(frozen=True, slots=True)
class OpenedPackage:
    manifest: dict[str, Any]
    custody: dict[str, Any]
    files: dict[str, bytes]  # sha256 -> content


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, 0
    archive.addfile(info, io.BytesIO(data))


def build_package(items: list[PackageItem], passphrase: str, *, note: dict[str, Any]) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise PackageError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        manifest = {**note, "items": [item.manifest for item in items]}
        custody = {item.manifest["sha256"]: item.custody for item in items}
        _add(archive, "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
        _add(archive, "custody.json", json.dumps(custody, indent=2, sort_keys=True).encode())
        for item in items:
            if hashlib.sha256(item.content).hexdigest() != item.manifest["sha256"]:
                raise PackageError(f"item {item.manifest['sha256']} does not match its hash")
            _add(archive, f"files/{item.manifest['sha256']}", item.content)
    salt, nonce = secrets.token_bytes(_SALT), secrets.token_bytes(_NONCE)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, buffer.getvalue(), PACKAGE_MAGIC)
    return PACKAGE_MAGIC + salt + nonce + sealed


def open_package(data: bytes, passphrase: str) -> OpenedPackage:
    head = len(PACKAGE_MAGIC) + _SALT + _NONCE
    if not data.startswith(PACKAGE_MAGIC) or len(data) < head + 16:
        raise PackageError("not a Haven evidence package")
    salt = data[len(PACKAGE_MAGIC) : len(PACKAGE_MAGIC) + _SALT]
    nonce = data[len(PACKAGE_MAGIC) + _SALT : head]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, data[head:], PACKAGE_MAGIC)
    except InvalidTag:
        raise PackageError("wrong passphrase, or the package is damaged") from None
    files: dict[str, bytes] = {}
    documents: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            if handle is None:
                continue
            content = handle.read()
            if member.name.startswith("files/"):
                files[member.name[len("files/") :]] = content
            else:
                documents[member.name] = json.loads(content)
    for digest, content in files.items():
        if hashlib.sha256(content).hexdigest() != digest:
            raise PackageError(f"file {digest} does not match its hash")
    return OpenedPackage(documents["manifest.json"], documents["custody.json"], files)
