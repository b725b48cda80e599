"""`haven keys show` and `haven keys rotate`."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.audit.audit_helpers import node

from haven.audit.models import AuditEntry
from haven.web.node import keyring

__all__ = ["node"]

pytestmark = pytest.mark.django_db


def _keys(*args: str) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out)
    return out.getvalue()


def _secrets(keys_dir: Path) -> list[str]:
    """Every secret in the keys folder, in the forms a leak could take."""
    found = []
    for file in keys_dir.glob("*/*.key"):
        raw = base64.b64decode(file.read_bytes())
        found += [file.read_text().strip(), raw.hex()]
    return found


def test_show_prints_the_identity_and_never_a_secret(node: Path) -> None:
    ring = keyring()
    shown = _keys("show")
    assert "node:            haven" in shown
    assert ring.signing.id in shown
    assert ring.signing.fingerprint in shown
    assert ring.signing.public_key.hex() in shown
    assert ring.master.id in shown
    assert ring.master.created in shown
    for secret in _secrets(ring.folder):
        assert secret not in shown


def test_show_json(node: Path) -> None:
    ring = keyring()
    facts = json.loads(_keys("show", "--json"))
    assert facts["signing_key"]["fingerprint"] == ring.signing.fingerprint
    assert facts["master_keys"] == [
        {"id": ring.master.id, "created": ring.master.created, "active": True}
    ]
    for secret in _secrets(ring.folder):
        assert secret not in json.dumps(facts)


def test_rotate_signing_keeps_old_signatures_verifying_and_is_audited(node: Path) -> None:
    old = keyring().signing
    key_id, signature = keyring().sign(b"a notice signed before rotation")
    out = _keys("rotate", "--signing")
    new = keyring().signing
    assert new.id != old.id
    assert f"new active signing key: {new.id}" in out
    assert new.fingerprint in out
    keyring().verify(key_id, b"a notice signed before rotation", signature)
    assert keyring().sign(b"x")[0] == new.id
    entry = AuditEntry.objects.get(action="keys.rotate")
    assert entry.detail == {"kind": "signing", "new_key_id": new.id, "previous_key_id": old.id}
    shown = _keys("show")
    assert f"older signing:   {old.id}" in shown


def test_rotate_master_keeps_old_ciphertexts_decrypting(node: Path) -> None:
    old = keyring().master
    blob = keyring().encrypt(b"synthetic evidence", b"evidence:1")
    _keys("rotate", "--master")
    assert keyring().master.id != old.id
    assert keyring().decrypt(blob, b"evidence:1") == b"synthetic evidence"
    assert keyring().encrypt(b"x")[4:20] == keyring().master.id.encode()
    entry = AuditEntry.objects.get(action="keys.rotate")
    assert entry.detail["kind"] == "master"
    assert entry.detail["previous_key_id"] == old.id


@pytest.mark.parametrize("args", [("rotate",), ("rotate", "--signing", "--master")])
def test_rotate_needs_exactly_one_kind(node: Path, args: tuple[str, ...]) -> None:
    before = {k.id for k in keyring().signing_keys} | {k.id for k in keyring().master_keys}
    with pytest.raises(CommandError):
        _keys(*args)
    after = {k.id for k in keyring().signing_keys} | {k.id for k in keyring().master_keys}
    assert after == before
    assert not AuditEntry.objects.filter(action="keys.rotate").exists()


def test_a_damaged_keys_folder_is_one_clear_line(node: Path) -> None:
    ring = keyring()
    next((ring.folder / "master").glob("*.key")).write_bytes(b"garbage!")
    keyring.cache_clear()
    with pytest.raises(CommandError, match="unreadable key file"):
        _keys("show")
