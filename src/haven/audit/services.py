"""Appending to the audit log. One writer at a time extends the chain, inside the caller's
transaction when there is one, so an audited change and its entry commit together.

Every `settings.HAVEN.audit_checkpoint_every` entries the append also signs a checkpoint of
the new head with the node's signing key: the row joins the same transaction, and its copy
goes to the checkpoint file once that transaction commits (a rolled-back entry's seq is
reused by the next one, so a checkpoint of it must never reach the file).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.permissions import Principal, principal_of
from haven.audit.chain import GENESIS, entry_digest
from haven.audit.checkpoints import (
    SignedCheckpoint,
    append_checkpoint,
    checkpoint_message,
    timestamp,
)
from haven.audit.models import AuditCheckpoint, AuditEntry, AuditHead

__all__ = ["EmptyLogError", "checkpoint", "checkpoint_file", "client_ip", "record"]


class EmptyLogError(ValueError):
    """A checkpoint was asked for before anything was audited."""


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def checkpoint_file() -> Path:
    """The file copy of every checkpoint, outside the database."""
    return Path(settings.HAVEN.data_dir) / "audit" / "checkpoints.jsonl"


def _write_file_copy(signed: SignedCheckpoint) -> None:
    append_checkpoint(checkpoint_file(), signed)


def _sign_head(seq: int, entry_hash: str) -> AuditCheckpoint:
    """Sign the head at `seq` and store it; the caller holds the head lock."""
    from haven.web.node import keyring

    moment = timezone.now()
    signed_at = timestamp(moment)
    key_id, signature = keyring().sign(checkpoint_message(seq, entry_hash, signed_at))
    row = AuditCheckpoint.objects.create(
        seq=seq,
        entry_hash=entry_hash,
        signed_at=moment,
        key_id=key_id,
        signature=signature.hex(),
    )
    signed = SignedCheckpoint(seq, entry_hash, signed_at, key_id, signature.hex())
    # robust: a full disk must not turn the caller's committed request into an error page;
    # the database row stands, and `haven audit verify` reports the missing file copy.
    transaction.on_commit(partial(_write_file_copy, signed), robust=True)
    return row


def _locked_head() -> AuditHead:
    # The head row is the chain's lock: concurrent writers queue on it (PostgreSQL row
    # lock; SQLite's IMMEDIATE transactions already admit one writer at a time).
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"seq": 0, "entry_hash": GENESIS}
    )
    return head


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    principal: Principal | None = None,
    actor: str | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: object = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Name records by id only: never put a child's personal data here."""
    who = principal or (principal_of(request) if request is not None else None)
    fields: dict[str, Any] = {
        "actor": (actor or (who.actor if who else "anonymous"))[:64],
        "actor_label": (actor_label or (who.label if who else ""))[:150],
        "action": action[:64],
        "target_type": target_type[:64],
        "target_id": str(target_id)[:64],
        "ip": client_ip(request),
        "user_agent": str(request.META.get("HTTP_USER_AGENT", ""))[:200] if request else "",
        "outcome": outcome[:16],
        "detail": detail or {},
    }
    with transaction.atomic():
        head = _locked_head()
        seq = head.seq + 1
        prev_hash = head.entry_hash
        moment = timezone.now()
        fields["seq"] = seq
        fields["at"] = timestamp(moment)
        digest = entry_digest(fields, prev_hash)
        entry = AuditEntry.objects.create(
            **{k: v for k, v in fields.items() if k != "at"},
            at=moment,
            prev_hash=prev_hash,
            entry_hash=digest,
        )
        AuditHead.objects.filter(pk=1).update(seq=seq, entry_hash=digest)
        if seq % settings.HAVEN.audit_checkpoint_every == 0:
            _sign_head(seq, digest)
    return entry


def checkpoint() -> AuditCheckpoint:
    """Sign the current head now (`haven audit checkpoint`); the existing one if it has one."""
    with transaction.atomic():
        head = _locked_head()
        if head.seq == 0:
            raise EmptyLogError("the audit log is empty: nothing to checkpoint yet")
        existing = AuditCheckpoint.objects.filter(seq=head.seq).first()
        if existing is not None:
            return existing
        return _sign_head(head.seq, head.entry_hash)
