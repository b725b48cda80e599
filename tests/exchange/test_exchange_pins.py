"""Pinning other nodes' keys by fingerprint, revoking pins, and the node identity page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from tests.audit.audit_helpers import make_user, node, signed_in

from haven.accounts.permissions import PermissionDenied, Principal, principal_for_user
from haven.audit.models import AuditEntry
from haven.exchange.models import PinnedNode
from haven.exchange.services import (
    PinError,
    normalize_fingerprint,
    parse_public_key,
    pin_node,
    pinned_key,
    revoke_pin,
)
from haven.keys import KeyRing
from haven.web.node import keyring

__all__ = ["node"]

pytestmark = pytest.mark.django_db

NODE = reverse("exchange:node")
PIN = reverse("exchange:pin")


@pytest.fixture
def other_node(tmp_path: Path) -> KeyRing:
    """Another country's node: its own keys, nothing shared with ours."""
    return KeyRing(tmp_path / "other-node-keys")


@pytest.fixture
def admin(node: Path) -> Principal:
    principal = principal_for_user(make_user("administrator"))
    assert principal is not None
    return principal


def _pin(admin: Principal, other: KeyRing, **overrides: str) -> PinnedNode:
    arguments = {
        "name": "Focal point, Atlantis",
        "public_key_hex": other.signing.public_key.hex(),
        "fingerprint": other.signing.fingerprint,
    }
    arguments.update(overrides)
    return pin_node(admin, **arguments)


def test_pinning_with_the_right_fingerprint_trusts_the_key(
    admin: Principal, other_node: KeyRing
) -> None:
    pin = _pin(admin, other_node, note="read out by phone on Monday")
    assert pin.key_id == other_node.signing.id
    assert pin.fingerprint == other_node.signing.fingerprint
    assert pin.pinned_by_id == admin.user_id
    assert pinned_key(other_node.signing.id) == other_node.signing.public_key
    entry = AuditEntry.objects.filter(action="node.pin").latest("seq")
    assert (entry.outcome, entry.target_id, entry.actor) == ("ok", str(pin.pk), admin.actor)
    assert entry.detail["key_id"] == pin.key_id


def test_a_signature_by_a_pinned_node_verifies_against_its_pin(
    admin: Principal, other_node: KeyRing
) -> None:
    from haven.keys import verify_signature

    _pin(admin, other_node)
    key_id, signature = other_node.sign(b"a hash list from Atlantis")
    public = pinned_key(key_id)
    assert public is not None
    verify_signature(public, b"a hash list from Atlantis", signature)


def test_fingerprints_may_be_typed_in_any_case_and_grouping(
    admin: Principal, other_node: KeyRing
) -> None:
    typed = other_node.signing.fingerprint.replace(" ", ":").upper()
    assert _pin(admin, other_node, fingerprint=typed).key_id == other_node.signing.id


def test_a_wrong_fingerprint_is_refused_and_changes_nothing(
    admin: Principal, other_node: KeyRing, tmp_path: Path
) -> None:
    impostor = KeyRing(tmp_path / "impostor")
    with pytest.raises(PinError, match="does not match this public key") as refused:
        _pin(admin, other_node, fingerprint=impostor.signing.fingerprint)
    # The right fingerprint is never shown: copying it would skip the out-of-band check.
    assert other_node.signing.fingerprint not in str(refused.value)
    assert not PinnedNode.objects.exists()
    assert pinned_key(other_node.signing.id) is None
    attempt = AuditEntry.objects.filter(action="node.pin").latest("seq")
    assert attempt.outcome == "failed"


@pytest.mark.parametrize(
    ("key", "fingerprint", "message"),
    [
        ("abc", None, "64 hexadecimal digits"),
        ("zz" * 32, None, "64 hexadecimal digits"),
        (None, "1234", "the fingerprint must be"),
    ],
)
def test_malformed_keys_and_fingerprints_are_refused(
    admin: Principal,
    other_node: KeyRing,
    key: str | None,
    fingerprint: str | None,
    message: str,
) -> None:
    overrides = {}
    if key is not None:
        overrides["public_key_hex"] = key
    if fingerprint is not None:
        overrides["fingerprint"] = fingerprint
    with pytest.raises(PinError, match=message):
        _pin(admin, other_node, **overrides)
    assert not PinnedNode.objects.exists()


def test_bytes_that_are_not_a_curve_point_are_refused() -> None:
    # The y coordinate 2 has no x on edwards25519, so these bytes are nobody's public key.
    not_a_point = (2).to_bytes(32, "little").hex()
    with pytest.raises(PinError, match="not an Ed25519 public key"):
        parse_public_key(not_a_point)


def test_normalize_fingerprint() -> None:
    digits = "ab" * 32
    assert normalize_fingerprint(digits.upper()) == " ".join(
        digits[i : i + 4] for i in range(0, 64, 4)
    )


def test_this_nodes_own_key_and_a_duplicate_are_refused(
    admin: Principal, other_node: KeyRing
) -> None:
    own = keyring().signing
    with pytest.raises(PinError, match="this node's own signing key"):
        pin_node(admin, "me", own.public_key.hex(), own.fingerprint)
    _pin(admin, other_node)
    with pytest.raises(PinError, match="already pinned"):
        _pin(admin, other_node, name="Atlantis again")
    assert PinnedNode.objects.count() == 1


def test_revoking_a_pin_stops_trust_and_a_new_pin_restores_it(
    admin: Principal, other_node: KeyRing
) -> None:
    pin = _pin(admin, other_node)
    revoke_pin(admin, pin.pk)
    assert pinned_key(pin.key_id) is None
    assert PinnedNode.objects.get(pk=pin.pk).revoked_at is not None
    assert AuditEntry.objects.filter(action="node.unpin", target_id=str(pin.pk)).exists()
    with pytest.raises(PinError, match="already revoked"):
        revoke_pin(admin, pin.pk)
    again = _pin(admin, other_node, name="Atlantis, re-pinned")
    assert again.pk == pin.pk
    assert pinned_key(pin.key_id) == other_node.signing.public_key


def test_only_node_managers_may_pin_or_revoke(admin: Principal, other_node: KeyRing) -> None:
    auditor = principal_for_user(make_user("auditor"))
    with pytest.raises(PermissionDenied):
        _pin(auditor, other_node)  # type: ignore[arg-type]
    pin = _pin(admin, other_node)
    with pytest.raises(PermissionDenied):
        revoke_pin(auditor, pin.pk)  # type: ignore[arg-type]
    assert pinned_key(pin.key_id) is not None


def test_a_pin_whose_stored_key_was_swapped_is_not_trusted(
    admin: Principal, other_node: KeyRing, tmp_path: Path
) -> None:
    pin = _pin(admin, other_node)
    swapped = KeyRing(tmp_path / "swapped").signing.public_key.hex()
    PinnedNode.objects.filter(pk=pin.pk).update(public_key=swapped)
    assert pinned_key(pin.key_id) is None


# -- the page ---------------------------------------------------------------------------


@pytest.fixture
def admin_client(client: Client, node: Path) -> Client:
    return signed_in(client, make_user("administrator"))


def test_the_page_shows_this_nodes_identity(admin_client: Client) -> None:
    keyring().rotate_signing()
    ring = keyring()
    response = admin_client.get(NODE)
    assert response.status_code == 200
    content = response.content.decode()
    assert ring.signing.id in content
    assert ring.signing.fingerprint in content
    assert ring.signing.public_key.hex() in content
    older = [key for key in ring.signing_keys if key.id != ring.signing.id]
    assert older and older[0].id in content
    for key in ring.master_keys:
        assert key.secret.hex() not in content


@pytest.mark.parametrize("role", ["auditor", "provider_analyst", "trainer"])
def test_people_who_do_not_manage_the_node_get_403(client: Client, node: Path, role: str) -> None:
    signed_in(client, make_user(role))
    assert client.get(NODE).status_code == 403
    assert client.post(PIN, {"name": "x"}).status_code == 403


def test_pinning_through_the_form(admin_client: Client, other_node: KeyRing) -> None:
    response = admin_client.post(
        PIN,
        {
            "name": "Focal point, Atlantis",
            "public_key": other_node.signing.public_key.hex(),
            "fingerprint": other_node.signing.fingerprint,
            "note": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"Pinned Focal point, Atlantis" in response.content
    assert pinned_key(other_node.signing.id) is not None
    pin = PinnedNode.objects.get()
    revoke = reverse("exchange:unpin", args=[pin.pk])
    assert revoke.encode() in response.content
    response = admin_client.post(revoke, follow=True)
    assert b"Revoked the pin" in response.content
    assert pinned_key(other_node.signing.id) is None


def test_the_form_refuses_a_wrong_fingerprint_with_a_clear_message(
    admin_client: Client, other_node: KeyRing
) -> None:
    response = admin_client.post(
        PIN,
        {
            "name": "Focal point, Atlantis",
            "public_key": other_node.signing.public_key.hex(),
            "fingerprint": "0000 " * 15 + "0000",
        },
    )
    assert response.status_code == 400
    assert b"does not match this public key" in response.content
    assert not PinnedNode.objects.exists()


def test_the_pin_form_needs_post_and_csrf(node: Path, other_node: KeyRing) -> None:
    client = signed_in(Client(enforce_csrf_checks=True), make_user("administrator"))
    assert client.post(PIN, {"name": "x"}).status_code == 403
    assert not PinnedNode.objects.exists()
    assert client.get(PIN).status_code == 405
