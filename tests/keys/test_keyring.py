"""The node's key ring: safe creation, encryption, signatures, rotation, damaged files."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haven.keys import (
    KeyRing,
    KeyRingError,
    SignatureInvalid,
    fingerprint,
    key_id_of,
    verify_signature,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_one_key_of_each_kind_readable_by_the_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    ring = KeyRing(folder)
    files = sorted(folder.glob("*/*.key"))
    assert [f.parent.name for f in files] == ["master", "signing"]
    assert _mode(folder) == 0o700
    for sub in ("master", "signing"):
        assert _mode(folder / sub) == 0o700
    for file in files:
        assert _mode(file) == 0o600
        assert len(base64.b64decode(file.read_bytes())) == 32
    assert f"-{ring.master.id}.key" in files[0].name
    assert files[1].name.endswith(f"-{ring.signing.id}.key")
    # Opening the folder again finds the same keys; nothing new is created.
    again = KeyRing(folder)
    assert (again.master.id, again.signing.id) == (ring.master.id, ring.signing.id)
    assert sorted(folder.glob("*/*.key")) == files


def test_a_loose_existing_folder_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    KeyRing(folder)
    assert _mode(folder) == 0o700


def test_without_create_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="no keys"):
        KeyRing(tmp_path / "nothing", create=False)


def test_encrypt_then_decrypt(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = ring.encrypt(b"synthetic case note", b"case:1")
    assert b"synthetic case note" not in blob
    assert ring.decrypt(blob, b"case:1") == b"synthetic case note"
    assert ring.encrypt(b"same", b"x") != ring.encrypt(b"same", b"x")  # fresh nonces


def test_wrong_associated_data_fails(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = ring.encrypt(b"synthetic case note", b"case:1")
    with pytest.raises(KeyRingError, match="damaged or belongs to another record"):
        ring.decrypt(blob, b"case:2")


def test_a_tampered_or_foreign_ciphertext_fails(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    blob = bytearray(ring.encrypt(b"synthetic", b""))
    blob[-1] ^= 1
    with pytest.raises(KeyRingError, match="damaged"):
        ring.decrypt(bytes(blob))
    with pytest.raises(KeyRingError, match="not a Haven ciphertext"):
        ring.decrypt(b"plain text, not a ciphertext at all, long enough to pass")
    other = KeyRing(tmp_path / "other")
    with pytest.raises(KeyRingError, match="which is not here"):
        ring.decrypt(other.encrypt(b"synthetic"))


def test_sign_and_verify(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    key_id, signature = ring.sign(b"a hash list")
    assert key_id == ring.signing.id == key_id_of(ring.signing.public_key)
    ring.verify(key_id, b"a hash list", signature)
    verify_signature(ring.public_key(key_id), b"a hash list", signature)
    with pytest.raises(SignatureInvalid):
        ring.verify(key_id, b"another hash list", signature)
    with pytest.raises(SignatureInvalid, match="not one of this node's keys"):
        ring.verify("0" * 16, b"a hash list", signature)


def test_fingerprint_is_the_sha256_of_the_public_key_in_groups_of_four(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    shown = ring.signing.fingerprint
    groups = shown.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert shown.replace(" ", "").startswith(ring.signing.id)
    assert fingerprint(ring.signing.public_key) == shown


def test_rotation_keeps_old_ciphertexts_and_signatures_working(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    old_blob = ring.encrypt(b"before rotation", b"evidence:1")
    old_key_id, old_signature = ring.sign(b"old list")
    old_master, old_signing = ring.master.id, ring.signing.id

    new_master = ring.rotate_master()
    new_signing = ring.rotate_signing()
    assert ring.master.id == new_master.id != old_master
    assert ring.signing.id == new_signing.id != old_signing
    assert {k.id for k in ring.master_keys} == {old_master, new_master.id}
    assert {k.id for k in ring.signing_keys} == {old_signing, new_signing.id}

    assert ring.decrypt(old_blob, b"evidence:1") == b"before rotation"
    ring.verify(old_key_id, b"old list", old_signature)
    new_blob = ring.encrypt(b"after rotation")
    assert new_blob[4:20] == new_master.id.encode()
    assert ring.sign(b"new list")[0] == new_signing.id

    # A fresh process opening the folder sees the same: newest active, old ones usable.
    reopened = KeyRing(tmp_path / "keys")
    assert (reopened.master.id, reopened.signing.id) == (new_master.id, new_signing.id)
    assert reopened.decrypt(old_blob, b"evidence:1") == b"before rotation"
    reopened.verify(old_key_id, b"old list", old_signature)


def test_a_rotation_by_another_process_is_picked_up(tmp_path: Path) -> None:
    worker = KeyRing(tmp_path / "keys")
    command = KeyRing(tmp_path / "keys")  # stands for `haven keys rotate` elsewhere
    time.sleep(0.01)
    command.rotate_signing()
    command.rotate_master()
    blob = command.encrypt(b"made with the new key")
    key_id, signature = command.sign(b"signed with the new key")
    # The worker never heard of the new keys: it reloads instead of failing...
    assert worker.decrypt(blob) == b"made with the new key"
    worker.verify(key_id, b"signed with the new key", signature)
    # ...and signs and encrypts with the new active keys from now on.
    assert worker.sign(b"x")[0] == command.signing.id
    assert worker.encrypt(b"x")[4:20] == command.master.id.encode()


def test_a_damaged_key_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    KeyRing(folder)
    master_file = next((folder / "master").glob("*.key"))
    master_file.write_bytes(b"this is not base64 !!!")
    with pytest.raises(KeyRingError, match=r"master/.*unreadable key file"):
        KeyRing(folder)
    master_file.write_bytes(base64.b64encode(b"too short"))
    with pytest.raises(KeyRingError, match=r"a key is 32 bytes, this holds 9"):
        KeyRing(folder)


def test_a_signing_key_file_that_does_not_match_its_name_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    KeyRing(folder)
    signing_file = next((folder / "signing").glob("*.key"))
    signing_file.write_bytes(base64.b64encode(bytes(32)))  # another key under the old name
    with pytest.raises(KeyRingError, match="does not match its name"):
        KeyRing(folder)


def test_a_key_file_made_readable_by_others_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    KeyRing(folder)
    key_file = next((folder / "master").glob("*.key"))
    key_file.chmod(0o644)
    KeyRing(folder)
    assert _mode(key_file) == 0o600


_CREATE = """
import sys, time
from pathlib import Path
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
from haven.keys import KeyRing
ring = KeyRing(sys.argv[1])
print(ring.master.id, ring.signing.id)
"""


def test_concurrent_creation_by_several_processes_yields_one_key_of_each(tmp_path: Path) -> None:
    folder, go = tmp_path / "keys", tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATE, str(folder), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)  # let every process start and wait at the line
    go.touch()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    assert len(set(outputs)) == 1
    assert len(list((folder / "master").glob("*.key"))) == 1
    assert len(list((folder / "signing").glob("*.key"))) == 1
