"""The vault's files: unreadable without the master key, bound to their id, atomically written."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.evidence.vault import BLOB_MAGIC, Vault, VaultError
from haven.keys import KeyRing

CONTENT = b"synthetic stand-in for preserved content: a benign picture of a teapot"


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "evidence", KeyRing(tmp_path / "keys"))


def test_a_sealed_blob_opens_with_its_record_and_is_noise_on_disk(vault: Vault) -> None:
    sealed = vault.seal(CONTENT)
    raw = vault.path(sealed.blob_id).read_bytes()
    assert raw.startswith(BLOB_MAGIC) and CONTENT not in raw and b"teapot" not in raw
    assert vault.path(sealed.blob_id).stat().st_mode & 0o077 == 0
    assert vault.open(sealed.blob_id, sealed.wrapped_key) == CONTENT
    assert sealed.size == len(CONTENT) and len(sealed.sha256) == 64


def test_without_the_master_key_nothing_opens(vault: Vault, tmp_path: Path) -> None:
    sealed = vault.seal(CONTENT)
    stranger = Vault(tmp_path / "evidence", KeyRing(tmp_path / "other-keys"))
    with pytest.raises(VaultError, match="cannot be unwrapped"):
        stranger.open(sealed.blob_id, sealed.wrapped_key)


def test_a_blob_moved_onto_another_id_or_tampered_with_fails(vault: Vault) -> None:
    first, second = vault.seal(CONTENT), vault.seal(b"another benign file")
    vault.path(second.blob_id).write_bytes(vault.path(first.blob_id).read_bytes())
    with pytest.raises(VaultError):
        vault.open(second.blob_id, second.wrapped_key)
    with pytest.raises(VaultError):
        vault.open(second.blob_id, first.wrapped_key)  # a key wrapped for another id
    raw = bytearray(vault.path(first.blob_id).read_bytes())
    raw[-1] ^= 1
    vault.path(first.blob_id).write_bytes(bytes(raw))
    with pytest.raises(VaultError, match="damaged"):
        vault.open(first.blob_id, first.wrapped_key)


def test_deleted_blobs_are_gone_and_ids_are_checked(vault: Vault) -> None:
    sealed = vault.seal(CONTENT)
    assert vault.delete(sealed.blob_id) is True
    assert vault.delete(sealed.blob_id) is False
    with pytest.raises(VaultError, match="not in the vault"):
        vault.open(sealed.blob_id, sealed.wrapped_key)
    with pytest.raises(VaultError, match="not a blob id"):
        vault.path("../../etc/passwd")


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=5000))
def test_any_bytes_round_trip(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    folder = tmp_path_factory.mktemp("v")
    vault = Vault(folder / "evidence", KeyRing(folder / "keys"))
    sealed = vault.seal(content)
    assert vault.open(sealed.blob_id, sealed.wrapped_key) == content
