"""Pinning other nodes' public signing keys, and finding a pinned key to verify against.

An administrator pins a node's Ed25519 public key together with the fingerprint the other
node's administrator read out to them over another channel (phone, in person). The pin is
refused unless that fingerprint is the one computed from the key: a key swapped in transit
does not get trusted. Signatures on hash lists, notices and exchange envelopes from other
nodes are verified against `pinned_key(key_id)` only.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.permissions import Principal, check
from haven.audit.services import record
from haven.exchange.models import PinnedNode
from haven.keys import fingerprint as fingerprint_of
from haven.keys import key_id_of

__all__ = [
    "PinError",
    "normalize_fingerprint",
    "parse_public_key",
    "pin_node",
    "pinned_key",
    "revoke_pin",
]

_HEX_KEY = re.compile(r"[0-9a-f]{64}\Z")
_SEPARATORS = re.compile(r"[\s:\-]+")


class PinError(ValueError):
    """A pin that cannot be made or revoked; the message says why, for the administrator."""


def parse_public_key(text: str) -> bytes:
    """An Ed25519 public key from 64 hex digits (spaces and colons allowed between them)."""
    cleaned = _SEPARATORS.sub("", text or "").lower()
    if not _HEX_KEY.match(cleaned):
        raise PinError("the public key must be 64 hexadecimal digits (32 bytes)")
    key = bytes.fromhex(cleaned)
    if not _is_curve_point(key):
        raise PinError("those 32 bytes are not an Ed25519 public key")
    return key


def _is_curve_point(key: bytes) -> bool:
    from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
    from nacl.exceptions import CryptoError

    try:
        crypto_sign_ed25519_pk_to_curve25519(key)
    except (CryptoError, ValueError, TypeError):
        return False
    return True


def normalize_fingerprint(text: str) -> str:
    """A fingerprint as typed (any case, spaces, colons or dashes) in Haven's display form."""
    cleaned = _SEPARATORS.sub("", text or "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", cleaned):
        raise PinError(
            "the fingerprint must be the 64 hexadecimal digits the other node shows "
            "(groups of four, spaces optional)"
        )
    return " ".join(cleaned[i : i + 4] for i in range(0, 64, 4))


def pin_node(
    principal: Principal,
    name: str,
    public_key_hex: str,
    fingerprint: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> PinnedNode:
    """Trust `public_key_hex` as node `name`'s key, if `fingerprint` is truly its own.

    Refused (PinError, nothing stored) for a malformed key or fingerprint, a fingerprint
    that is not the key's, this node's own key, or a key already pinned. Attempts are
    audited ("node.pin"), refused ones with outcome "failed".
    """
    check(principal, "node:manage")
    name = (name or "").strip()
    try:
        if not name or len(name) > 200:
            raise PinError("give the node a name (at most 200 characters)")
        if len(note) > 2000:
            raise PinError("the note is too long (at most 2000 characters)")
        key = parse_public_key(public_key_hex)
        expected = fingerprint_of(key)
        if normalize_fingerprint(fingerprint) != expected:
            # The right fingerprint is deliberately not shown: copying it from here would
            # skip the out-of-band check that pinning exists for.
            raise PinError(
                "the fingerprint you entered does not match this public key, so it was not "
                "pinned; check the key and the fingerprint with the other node's "
                "administrator again, by a channel other than the one the key came through"
            )
        pin = _store_pin(principal, name, key, expected, note.strip())
    except PinError as exc:
        record(
            "node.pin",
            request=request,
            principal=principal,
            target_type="node",
            outcome="failed",
            detail={"reason": str(exc)[:200]},
        )
        raise
    record(
        "node.pin",
        request=request,
        principal=principal,
        target_type="node",
        target_id=pin.pk,
        detail={"key_id": pin.key_id, "name": pin.name},
    )
    return pin


def _store_pin(
    principal: Principal, name: str, key: bytes, fingerprint: str, note: str
) -> PinnedNode:
    from haven.web.node import keyring

    key_id = key_id_of(key)
    if any(own.id == key_id for own in keyring().signing_keys):
        raise PinError("that is this node's own signing key; pin other nodes' keys only")
    try:
        with transaction.atomic():
            existing = PinnedNode.objects.select_for_update().filter(key_id=key_id).first()
            if existing is not None and existing.revoked_at is None:
                raise PinError(f"this key is already pinned, as {existing.name!r}")
            if existing is not None:
                # A revoked pin of the same key is pinned again, under the name given now.
                existing.name, existing.note = name, note
                existing.pinned_at, existing.revoked_at = timezone.now(), None
                existing.pinned_by_id = principal.user_id
                existing.save()
                return existing
            return PinnedNode.objects.create(
                name=name,
                public_key=key.hex(),
                key_id=key_id,
                fingerprint=fingerprint,
                note=note,
                pinned_by_id=principal.user_id,
            )
    except IntegrityError:
        raise PinError("this key was pinned by someone else a moment ago") from None


def revoke_pin(principal: Principal, pin_id: int, request: HttpRequest | None = None) -> PinnedNode:
    """Stop trusting a pinned key. The row stays (with when it was revoked) for the record."""
    check(principal, "node:manage")
    with transaction.atomic():
        pin = PinnedNode.objects.select_for_update().filter(pk=pin_id).first()
        if pin is None:
            raise PinError("no such pinned node")
        if pin.revoked_at is not None:
            raise PinError(f"the pin of {pin.name!r} is already revoked")
        pin.revoked_at = timezone.now()
        pin.save(update_fields=["revoked_at"])
        record(
            "node.unpin",
            request=request,
            principal=principal,
            target_type="node",
            target_id=pin.pk,
            detail={"key_id": pin.key_id, "name": pin.name},
        )
    return pin


def pinned_key(key_id: str) -> bytes | None:
    """The public key pinned (and not revoked) under `key_id`, or None: verify against it."""
    pin = PinnedNode.objects.filter(key_id=key_id, revoked_at__isnull=True).first()
    if pin is None:
        return None
    key = bytes.fromhex(pin.public_key)
    return key if key_id_of(key) == key_id else None
