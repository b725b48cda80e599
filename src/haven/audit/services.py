"""Appending to the audit log. One writer at a time extends the chain, inside the caller's
transaction when there is one, so an audited change and its entry commit together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from haven.accounts.permissions import Principal, principal_of
from haven.audit.chain import GENESIS, entry_digest
from haven.audit.models import AuditEntry, AuditHead

__all__ = ["client_ip", "record"]


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
        "actor": actor or (who.actor if who else "anonymous"),
        "actor_label": (actor_label or (who.label if who else ""))[:150],
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id)[:64],
        "ip": client_ip(request),
        "user_agent": str(request.META.get("HTTP_USER_AGENT", ""))[:200] if request else "",
        "outcome": outcome,
        "detail": detail or {},
    }
    with transaction.atomic():
        # The head row is the chain's lock: concurrent writers queue on it (PostgreSQL row
        # lock; SQLite's IMMEDIATE transactions already admit one writer at a time).
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "entry_hash": GENESIS}
        )
        seq = head.seq + 1
        prev_hash = head.entry_hash
        moment = timezone.now()
        fields["seq"] = seq
        fields["at"] = _timestamp(moment)
        digest = entry_digest(fields, prev_hash)
        entry = AuditEntry.objects.create(
            **{k: v for k, v in fields.items() if k != "at"},
            at=moment,
            prev_hash=prev_hash,
            entry_hash=digest,
        )
        AuditHead.objects.filter(pk=1).update(seq=seq, entry_hash=digest)
    return entry
